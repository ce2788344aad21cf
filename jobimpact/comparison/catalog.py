"""The external occupation measures jobimpact knows, and how a user names their own.

A :class:`MeasureSpec` says where a measure's values are (a fetched source's file, or a
user's file), which columns hold the code and the value, which code system the codes
belong to, and which of our measures it is set against when listing disagreements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from jobimpact.errors import ConfigError

__all__ = [
    "CODE_SYSTEMS",
    "OURS",
    "PUBLISHED_MEASURES",
    "MeasureSpec",
    "published_measure",
    "user_measure",
]

# Code systems a measure can be keyed to, with how messages name them.
CODE_SYSTEMS = {
    "soc2010": "SOC 2010",
    "soc2018": "SOC 2018",
    "onet2019": "O*NET-SOC 2019",
}
# Our occupation measures that every external measure is correlated with.
OURS = ("beta", "displacement", "creation")
UnknownCodes = Literal["error", "skip"]
_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class MeasureSpec:
    """One external occupation measure.

    Attributes
    ----------
    name : str
        Identifier in the store (``external_measures.measure``).
    label : str
        Short name for tables and figures.
    title : str
        What the measure is, in one line.
    code_system : str
        ``soc2010``, ``soc2018`` or ``onet2019`` (see :data:`CODE_SYSTEMS`).
    key_column, value_column : str
        The file's columns holding the occupation code and the value.
    counterpart : str
        Our measure it is set against when listing disagreements (``beta``,
        ``displacement`` or ``creation``).
    source : str or None
        The ``jobimpact fetch`` source holding the file; None for a user's file.
    file : str
        File name in the fetched source's folder, or the path of a user's file.
    unknown_codes : ``"error"`` or ``"skip"``
        What a well-formed code that is not in the code system does: stop with an error
        naming its row (a user's file), or be left out and counted (a published file
        known to carry a few such codes; ``note`` says which).
    citation, licence, note : str
        For the report and the store.
    """

    name: str
    label: str
    title: str
    code_system: str
    key_column: str
    value_column: str
    counterpart: str = "beta"
    source: str | None = None
    file: str = ""
    unknown_codes: UnknownCodes = "error"
    citation: str = ""
    licence: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.code_system not in CODE_SYSTEMS:
            raise ConfigError(
                f"--code-system: got {self.code_system!r}, expected one of "
                + ", ".join(CODE_SYSTEMS)
            )
        if self.counterpart not in OURS:
            raise ConfigError(
                f"counterpart of {self.name}: got {self.counterpart!r}, expected one of "
                + ", ".join(OURS)
            )


_GPTS_CITATION = (
    "Eloundou, Manning, Mishkin and Rock (2024), GPTs are GPTs: Labor market impact "
    "potential of LLMs, Science 384(6702); data github.com/openai/GPTs-are-GPTs"
)

PUBLISHED_MEASURES: dict[str, MeasureSpec] = {
    spec.name: spec
    for spec in (
        MeasureSpec(
            name="felten_lm_aioe",
            label="LM AIOE (Felten et al.)",
            title="Language-modelling AI occupational exposure (standardised score)",
            code_system="soc2010",
            key_column="SOC Code",
            value_column="Language Modeling AIOE",
            source="aioe",
            file="lm_aioe.csv",
            citation=(
                "Felten, Raj and Seamans (2023), How will Language Modelers like ChatGPT "
                "Affect Occupations and Industries?, arXiv:2303.01157; data "
                "github.com/AIOE-Data/AIOE"
            ),
            licence="no licence stated; cite the paper",
        ),
        MeasureSpec(
            name="frey_osborne",
            label="Frey-Osborne",
            title="Probability of computerisation (2013 model, 2010 OES occupations)",
            code_system="soc2010",
            key_column="SOC code",
            value_column="Probability",
            counterpart="displacement",
            source="frey_osborne",
            file="automation_risk_soc2018.csv",
            unknown_codes="skip",
            citation=(
                "Frey and Osborne (2017), The future of employment: How susceptible are jobs "
                "to computerisation?, Technological Forecasting and Social Change 114, "
                "254-280; machine-readable copy github.com/ignaciourbina/labor-force"
            ),
            licence="cite the paper",
            note=(
                "the paper keys occupations by 2010 OES codes; the few that are not SOC 2010 "
                "codes (OES 'all other' aggregates such as 29-9799, and 29-1111, the SOC "
                "2000 code of registered nurses) reach no occupation and are counted as "
                "unknown"
            ),
        ),
        MeasureSpec(
            name="ms_ai_applicability",
            label="AI applicability (Microsoft)",
            title="AI applicability score from observed Copilot conversations (2024)",
            code_system="soc2018",
            key_column="SOC Code",
            value_column="ai_applicability_score",
            source="working_with_ai",
            file="soc_ai_applicability_scores.csv",
            citation=(
                "Tomlinson, Jaffe, Wang, Counts and Suri (2025), Working with AI: Measuring "
                "the Applicability of Generative AI to Occupations, arXiv:2507.07935; data "
                "github.com/microsoft/working-with-ai"
            ),
            licence="CC BY 4.0",
        ),
        MeasureSpec(
            name="gpts_human_beta",
            label="GPTs beta, human",
            title="Share of exposed tasks (beta) from the human labels of Eloundou et al.",
            code_system="onet2019",
            key_column="O*NET-SOC Code",
            value_column="human_rating_beta",
            source="gpts_occupations",
            file="occ_level.csv",
            citation=_GPTS_CITATION,
            licence="MIT",
        ),
        MeasureSpec(
            name="gpts_gpt4_beta",
            label="GPTs beta, GPT-4",
            title="Share of exposed tasks (beta) from the GPT-4 labels of Eloundou et al.",
            code_system="onet2019",
            key_column="O*NET-SOC Code",
            value_column="dv_rating_beta",
            source="gpts_occupations",
            file="occ_level.csv",
            citation=_GPTS_CITATION,
            licence="MIT",
        ),
    )
}


def published_measure(name: str) -> MeasureSpec:
    """The published measure called ``name``; a ConfigError lists the known names."""
    try:
        return PUBLISHED_MEASURES[name]
    except KeyError:
        known = ", ".join(PUBLISHED_MEASURES)
        raise ConfigError(f"--measures: got {name!r}, expected some of {known}") from None


def user_measure(
    path: str | Path,
    *,
    key_column: str,
    value_column: str,
    code_system: str = "soc2018",
    name: str | None = None,
    counterpart: str = "beta",
) -> MeasureSpec:
    """A measure from a user's CSV (or tab-separated ``.tsv`` / ``.txt``) file.

    Parameters
    ----------
    path : the file
    key_column, value_column : the columns holding the occupation code and the value
    code_system : ``soc2010``, ``soc2018`` (default) or ``onet2019``
    name : identifier in the store; the file's name, lower-cased, by default
    counterpart : our measure to list disagreements against (default ``beta``)

    Raises
    ------
    ConfigError
        For a name that is not a plain identifier or is taken by a published measure.
    """
    path = Path(path)
    chosen = name or re.sub(r"[^a-z0-9_]+", "_", path.stem.lower()).strip("_")
    if not chosen or not chosen[0].isalpha():
        chosen = f"user_{chosen}"
    if not _NAME.fullmatch(chosen):
        raise ConfigError(
            f"measure name: got {chosen!r}, expected letters, digits and _ (starting with a "
            "letter, at most 63 characters)"
        )
    if chosen in PUBLISHED_MEASURES:
        raise ConfigError(
            f"measure name: got {chosen!r}, expected a name that no published measure has "
            "(rename the file)"
        )
    return MeasureSpec(
        name=chosen,
        label=chosen,
        title=f"{value_column} from {path.name}",
        code_system=code_system,
        key_column=key_column,
        value_column=value_column,
        counterpart=counterpart,
        file=str(path),
    )
