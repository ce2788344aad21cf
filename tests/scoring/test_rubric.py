from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jobimpact.errors import ConfigError, ScoringError
from jobimpact.measures import MEASURE_NAMES as MEASURES
from jobimpact.measures import ROLES as REQUIRED_KEYS
from jobimpact.measures import derive_measures
from jobimpact.scoring.rubric import Question, available_rubrics, load_rubric

CUSTOM = """
name = "mini"
version = "0.1"
system = "Rate tasks."
task_template = "Job: {occupation}. Task: {task}"
joiner = "\\n"
question_template = "{label}: {prompt}"

[[questions]]
key = "direct"
label = "D"
prompt = "Faster with a chatbot?"
"""


def test_default_rubric_has_the_four_questions_and_guidance() -> None:
    rubric = load_rubric()
    assert "exposure" in available_rubrics()
    assert rubric.keys == REQUIRED_KEYS
    assert (rubric.yes, rubric.no) == ("Yes", "No")
    # the two guidance lines: physical / in-person work -> No, information work -> Yes
    assert "physical" in rubric.system and "gets No" in rubric.system
    assert "reading, writing or analysing information gets Yes" in rubric.system
    block = rubric.task_block(occupation=" Roofers ", task="Repair roofs.\n")
    assert block == "Occupation: Roofers\nTask: Repair roofs."


def test_hash_is_sha256_of_canonical_and_tracks_every_field() -> None:
    rubric = load_rubric()
    assert rubric.hash == hashlib.sha256(rubric.canonical().encode()).hexdigest()
    assert load_rubric().hash == rubric.hash
    assert replace(rubric, version="9").hash != rubric.hash
    reworded = (*rubric.questions[:-1], Question("creation", "Creation", "New work?"))
    assert replace(rubric, questions=reworded).hash != rubric.hash


def test_load_custom_rubric_file(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(CUSTOM)
    rubric = load_rubric(path)
    assert rubric.name == "mini" and rubric.keys == ("direct",)
    assert rubric.user_message(occupation="Cook", task="Cook.", key="direct") == (
        "Job: Cook. Task: Cook.\nD: Faster with a chatbot?"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = [", "mini.toml: got invalid TOML"),
        (CUSTOM.replace('version = "0.1"', "version = 1"), "field 'version': got int"),
        (CUSTOM.replace("{task}", "{tsk}"), "field 'task_template': got fields"),
        (CUSTOM.replace('key = "direct"', ""), "question 1: got"),
        (CUSTOM + '[[questions]]\nkey = "direct"\nlabel = "x"\nprompt = "y"\n', "duplicate"),
    ],
)
def test_bad_rubric_files_raise_config_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_rubric(path)


def test_unknown_rubric_name_and_question_key() -> None:
    with pytest.raises(ConfigError, match="expected a TOML file or one of exposure"):
        load_rubric("nonesuch")
    with pytest.raises(ConfigError, match="got question key 'x'"):
        load_rubric().question("x")


def test_derive_measures_scalar_values() -> None:
    m = derive_measures({"direct": 0.2, "software": 0.6, "automation": 0.3, "creation": 0.9})
    assert list(m) == list(MEASURES)
    assert m["alpha"] == pytest.approx(0.2)
    assert m["beta"] == pytest.approx(0.2 + 0.5 * 0.4)
    assert m["zeta"] == pytest.approx(0.6)
    assert m["displacement"] == pytest.approx(0.3)
    assert m["creation"] == pytest.approx(0.9)
    # software below direct adds nothing to beta
    low = derive_measures({"direct": 0.7, "software": 0.1, "automation": 0.0, "creation": 0.0})
    assert low["beta"] == pytest.approx(0.7) and low["zeta"] == pytest.approx(0.7)


def test_derive_measures_vectorised_matches_scalar() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.uniform(size=(20, 4)), columns=[f"p_{k}" for k in REQUIRED_KEYS])
    frame.index = pd.Index([f"r{i}" for i in range(20)])
    out = derive_measures(frame)
    assert isinstance(out, pd.DataFrame) and list(out.index) == list(frame.index)
    for name, row in frame.iterrows():
        expected = derive_measures({k: float(row[f"p_{k}"]) for k in REQUIRED_KEYS})
        for measure, value in expected.items():
            assert out.loc[name, measure] == pytest.approx(value)
    arrays = derive_measures({k: frame[f"p_{k}"].to_numpy() for k in REQUIRED_KEYS})
    np.testing.assert_allclose(arrays["creation"], out["creation"].to_numpy())


def test_derive_measures_missing_question() -> None:
    with pytest.raises(ScoringError, match="expected 'software' or 'p_software'"):
        derive_measures({"direct": 0.1, "automation": 0.2, "creation": 0.3})
