"""One registry for scoring backends and embedders: same rules, lazy built-ins, clean up."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

import numpy as np
import pytest

from jobimpact.embedding import EMBEDDERS, Embedder
from jobimpact.embedding.base import FloatArray
from jobimpact.errors import ConfigError
from jobimpact.registry import Registry
from jobimpact.scoring import BACKENDS, Scorer, TaskPrompt, TaskScore


class Constant(Scorer):
    def __init__(self, *, value: float = 0.5) -> None:
        super().__init__()
        self.value = value

    def score_batch(self, items: Sequence[TaskPrompt]) -> list[TaskScore]:
        return []


class Flat(Embedder):
    def __init__(self, *, width: int = 2) -> None:
        self.width = width

    def encode(self, texts: Sequence[str]) -> FloatArray:
        return np.ones((len(texts), self.width), dtype=np.float32)


@pytest.mark.parametrize(
    ("registry", "factory", "kind", "base"),
    [(BACKENDS, Constant, "scoring backend", "Scorer"), (EMBEDDERS, Flat, "embedder", "Embedder")],
)
def test_both_registries_follow_the_same_rules(
    registry: Registry[object], factory: type, kind: str, base: str
) -> None:
    with registry.registered("test-temporary", factory):
        assert "test-temporary" in registry.names()
        assert registry.create("test-temporary").__class__ is factory
        with pytest.raises(ConfigError) as error:
            registry.create("test-temporary", colour="red")
        assert str(error.value).startswith(f"{kind} 'test-temporary': got option colour, expected")
    assert "test-temporary" not in registry.names()
    with pytest.raises(ConfigError, match=f"^{kind}: got 'nope', expected one of "):
        registry.create("nope")
    with (
        registry.registered("test-object", lambda: object()),
        pytest.raises(ConfigError, match=f"got a object, expected a {base}"),
    ):
        registry.create("test-object")


def test_a_registered_class_knows_its_name() -> None:
    with BACKENDS.registered("test-named", Constant):
        assert BACKENDS.create("test-named").backend_name == "test-named"


def test_built_ins_load_on_first_use_only() -> None:
    code = (
        "import sys, jobimpact.scoring, jobimpact.embedding\n"
        "before = [m for m in ('jobimpact.scoring.fake', 'jobimpact.embedding.fake') "
        "if m in sys.modules]\n"
        "jobimpact.scoring.get_backend('fake'); jobimpact.embedding.get_embedder('fake')\n"
        "print(before, 'jobimpact.scoring.fake' in sys.modules, "
        "'jobimpact.embedding.fake' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] True True"
