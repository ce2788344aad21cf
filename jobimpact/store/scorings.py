"""Which scoring a command reads: the one rule, used by every stage, the report and the
notebooks.

A *scoring* is one model, rubric and calibration head (``head_id`` '' for the zero-shot
answers); a *roll-up* is a scoring aggregated with one task weighting. When the caller
does not name one, :func:`resolve_scoring` picks, among the candidates (every scoring in
``task_scores`` and ``task_features``, or every roll-up in ``occupation_scores``), the one
matching what was named, then

1. the model and rubric used most recently,
2. calibrated before zero-shot (a head's scores are the validated ones),
3. the most recent head (or roll-up).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from jobimpact.errors import ConfigError, NotReadyError

__all__ = ["DEFAULT_WEIGHTING", "ScoringKey", "list_scorings", "resolve_scoring"]

DEFAULT_WEIGHTING = "rating"

# Features with no answers beside them (a feature pass before any head) are a zero-shot
# scoring too: the one calibrate fits a head on.
SELECT_SCORED = """
SELECT model_id, rubric_hash, head_id, NULL::VARCHAR AS weighting, max(seen_at) AS at
FROM (
    SELECT model_id, rubric_hash, head_id, scored_at AS seen_at FROM task_scores
    UNION ALL
    SELECT model_id, rubric_hash, '' AS head_id, computed_at AS seen_at FROM task_features
    WHERE rubric_hash IS NOT NULL
)
GROUP BY ALL
"""
SELECT_AGGREGATED = """
SELECT s.model_id, s.rubric_hash, s.head_id, s.weighting, max(r.started_at) AS at
FROM occupation_scores AS s LEFT JOIN runs AS r USING (run_id)
GROUP BY ALL
"""
COUNT_SCORES = "SELECT count(*) FROM task_scores"


@dataclass(frozen=True)
class ScoringKey:
    """One scoring (model, rubric, head), and the task weighting of its roll-up.

    Attributes
    ----------
    model_id, rubric_hash : str
        The scoring model and the rubric it answered.
    head_id : str
        The calibration head, '' for the zero-shot answers.
    weighting : str or None
        ``rating`` or ``type`` for a roll-up; None for task scores.
    """

    model_id: str
    rubric_hash: str
    head_id: str
    weighting: str | None = None

    @property
    def method(self) -> str:
        """``calibrated`` or ``zero-shot``."""
        return "calibrated" if self.head_id else "zero-shot"

    @property
    def params(self) -> list[str]:
        """``[model_id, rubric_hash, head_id]`` (and ``weighting`` for a roll-up), in the
        order the store's queries bind them."""
        key = [self.model_id, self.rubric_hash, self.head_id]
        return key if self.weighting is None else [*key, self.weighting]

    def describe(self) -> str:
        """One line for people: ``model / rubric 1234abcd5678 / head … (weighting)``."""
        head = f"head {self.head_id}" if self.head_id else "zero-shot"
        text = f"{self.model_id} / rubric {self.rubric_hash[:12]} / {head}"
        return text if self.weighting is None else f"{text} ({self.weighting} weights)"


def list_scorings(con: duckdb.DuckDBPyConnection, *, aggregated: bool = False) -> pd.DataFrame:
    """Every scoring in the store (or every roll-up, with ``aggregated``), in the order
    :func:`resolve_scoring` prefers them.

    Returns
    -------
    DataFrame
        ``model_id``, ``rubric_hash``, ``head_id``, ``weighting`` (None for task scores),
        ``method`` (calibrated or zero-shot) and ``at`` (latest score or roll-up).
    """
    _require_connection(con)
    candidates = con.execute(SELECT_AGGREGATED if aggregated else SELECT_SCORED).df()
    ranked = _ranked(candidates).drop(columns=["model_latest", "calibrated"])
    method = ranked["head_id"].map(lambda head: "calibrated" if head else "zero-shot")
    return ranked.assign(method=method).reset_index(drop=True)


def resolve_scoring(
    con: duckdb.DuckDBPyConnection,
    *,
    model_id: str | None = None,
    rubric_hash: str | None = None,
    head_id: str | None = None,
    weighting: str | None = None,
    aggregated: bool = False,
    where: str = "the store",
) -> ScoringKey:
    """The scoring to read (see the module docstring for the rule).

    Parameters
    ----------
    con : DuckDB connection to the store (read-only is enough)
    model_id, rubric_hash, head_id : str, optional
        Named parts of the scoring; ``head_id=''`` asks for the zero-shot answers.
    weighting : str, optional
        Task weighting of the roll-up (with ``aggregated``; default ``rating``).
    aggregated : bool
        Choose among roll-ups (report, notebooks) rather than task scores (stages).
    where : str
        How messages name the store (e.g. its path).

    Raises
    ------
    NotReadyError
        When the store holds no scores (or no roll-up, with ``aggregated``).
    ConfigError
        When nothing matches what was named; the message lists what there is.
    """
    candidates = list_scorings(con, aggregated=aggregated)
    if candidates.empty:
        raise _not_ready(con, aggregated, where)
    wanted = {"model_id": model_id, "rubric_hash": rubric_hash, "head_id": head_id}
    if aggregated:
        wanted["weighting"] = weighting or DEFAULT_WEIGHTING
    for column, value in wanted.items():
        if value is None:
            continue
        matching = candidates[candidates[column] == value]
        if matching.empty:
            found = ", ".join(repr(v) for v in sorted(set(candidates[column])))
            done, run = ("aggregated", "aggregate") if aggregated else ("scored", "score")
            raise ConfigError(
                f"{column}: got {value!r}, expected one {done} in {where} ({found}); "
                f"run jobimpact {run} for it"
            )
        candidates = matching
    row = candidates.iloc[0]
    return ScoringKey(
        model_id=str(row["model_id"]),
        rubric_hash=str(row["rubric_hash"]),
        head_id=str(row["head_id"]),
        weighting=None if pd.isna(row["weighting"]) else str(row["weighting"]),
    )


def _require_connection(con: object) -> None:
    """A path where a connection belongs is a common slip (``jobimpact.query`` takes one)."""
    if not isinstance(con, duckdb.DuckDBPyConnection):
        raise ConfigError(
            f"got {type(con).__name__} {con!r}, expected an open store connection: "
            "with jobimpact.open_store(db, read_only=True) as con: ..."
        )


def _ranked(candidates: pd.DataFrame) -> pd.DataFrame:
    """Latest model and rubric first, then calibrated before zero-shot, then latest."""
    latest = candidates.groupby(["model_id", "rubric_hash"])["at"].transform("max")
    return candidates.assign(
        model_latest=latest, calibrated=candidates["head_id"] != ""
    ).sort_values(["model_latest", "calibrated", "at"], ascending=False, na_position="last")


def _not_ready(con: duckdb.DuckDBPyConnection, aggregated: bool, where: str) -> NotReadyError:
    """What to run first, for a store with nothing to choose from."""
    if not aggregated:
        return NotReadyError("got a store with no scores, expected `jobimpact score` first")
    row = con.execute(COUNT_SCORES).fetchone()
    if row and row[0]:
        return NotReadyError(
            f"got task scores but no occupation roll-up in {where}, expected an aggregated "
            "store (run jobimpact aggregate)"
        )
    return NotReadyError(
        f"got no scores in {where}, expected a scored and aggregated store "
        "(run jobimpact score and jobimpact aggregate)"
    )
