"""Every task measure, defined once.

A rubric question plays one of the :data:`ROLES`: ``direct`` (a chat assistant alone
halves the task's time: E1 of Eloundou et al.), ``software`` (LLM-powered software
halves it: E1 or E2), ``automation`` (an LLM system does it end to end) and ``creation``
(LLM use creates new work around it: a calibration head answers it with the probability
that using an LLM for the task is augmentative, learnt from observed use; see
:mod:`jobimpact.usage`). The packaged rubric's question keys are the role
names; a custom rubric names each question's role (see
:class:`~jobimpact.scoring.rubric.Question`).

Each measure is one SQL expression over the role probabilities ``p_<role>``. The store's
``task_measures`` view is generated from :data:`MEASURES`
(``store/sql/views/task_measures.sql``), and :func:`derive_measures` evaluates the same
expressions with DuckDB on in-memory data, so a measure cannot mean one thing in SQL and
another in Python.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import pandas as pd

from jobimpact.errors import ScoringError

__all__ = ["MEASURES", "MEASURE_NAMES", "ROLES", "Measure", "derive_measures", "measure_sql"]

ROLES = ("direct", "software", "automation", "creation")


@dataclass(frozen=True)
class Measure:
    """One task measure.

    Attributes
    ----------
    name : str
        Column name in the store and in every frame.
    expression : str
        SQL over the role probabilities ``p_direct``, ``p_software``, ``p_automation``,
        ``p_creation``; a probability in [0, 1].
    description : str
        What it measures, for the view's documentation and the report.
    """

    name: str
    expression: str
    description: str

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles the expression reads."""
        return tuple(r for r in ROLES if re.search(rf"\bp_{r}\b", self.expression))

    def sql(self) -> str:
        """The select item: NULL unless every role it reads has an answer."""
        known = " AND ".join(f"p_{role} IS NOT NULL" for role in self.roles)
        return f"CASE WHEN {known} THEN {self.expression} END AS {self.name}"


MEASURES: tuple[Measure, ...] = (
    Measure("alpha", "p_direct", "exposed to a chat assistant alone (E1)"),
    Measure(
        "beta",
        "p_direct + 0.5 * greatest(0, p_software - p_direct)",
        "E1 + E2/2: the share of exposed tasks of Eloundou et al.",
    ),
    Measure(
        "zeta",
        "greatest(p_direct, p_software)",
        "exposed with LLM-powered software (E1 or E2)",
    ),
    Measure("displacement", "p_automation", "an LLM system could do the task end to end"),
    Measure(
        "creation",
        "p_creation",
        "LLM use on the task is augmentative: the worker iterates, validates, learns",
    ),
)
MEASURE_NAMES: tuple[str, ...] = tuple(m.name for m in MEASURES)


def measure_sql(*, indent: str = "    ") -> str:
    """The measures as SQL select items, one per line (see :meth:`Measure.sql`)."""
    return f",\n{indent}".join(m.sql() for m in MEASURES)


@overload
def derive_measures(p: pd.DataFrame) -> pd.DataFrame: ...
@overload
def derive_measures(p: Mapping[str, float]) -> dict[str, float]: ...
@overload
def derive_measures(p: Mapping[str, Any]) -> dict[str, Any]: ...


def derive_measures(p: Mapping[str, Any] | pd.DataFrame) -> dict[str, Any] | pd.DataFrame:
    """Turn per-role P(Yes) into the measures of :data:`MEASURES`.

    Parameters
    ----------
    p : Mapping or DataFrame
        P(Yes) for each role (``direct`` … or ``p_direct`` …): floats, arrays, Series,
        or DataFrame columns.

    Returns
    -------
    dict or DataFrame
        The measures, in :data:`MEASURE_NAMES` order: floats for float input, arrays for
        array input, a DataFrame (same index) for a DataFrame.

    Raises
    ------
    ScoringError
        When a role is missing.
    """
    import duckdb

    columns = list(p.columns) if isinstance(p, pd.DataFrame) else list(p.keys())
    names = {role: role if role in columns else f"p_{role}" for role in ROLES}
    missing = [role for role, name in names.items() if name not in columns]
    if missing:
        raise ScoringError(
            f"derive_measures: got columns {sorted(map(str, columns))}, expected "
            f"{missing[0]!r} or 'p_{missing[0]}' for each of {', '.join(ROLES)}"
        )
    scalar = all(np.ndim(p[name]) == 0 for name in names.values())
    roles = pd.DataFrame(
        {
            f"p_{role}": np.atleast_1d(np.asarray(p[name], dtype=float))
            for role, name in names.items()
        }
    )
    con = duckdb.connect()
    try:
        con.register("roles", roles)
        derived = con.execute(f"SELECT {measure_sql()} FROM roles").df()
    finally:
        con.close()
    if isinstance(p, pd.DataFrame):
        return derived.set_axis(p.index)
    if scalar:
        return {name: float(derived[name].iloc[0]) for name in MEASURE_NAMES}
    return {name: derived[name].to_numpy(dtype=float) for name in MEASURE_NAMES}
