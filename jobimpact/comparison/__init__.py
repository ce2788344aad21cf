"""Our occupation measures beside published ones (``jobimpact compare``).

- :mod:`~jobimpact.comparison.catalog`: the published measures and a user's own file.
- :mod:`~jobimpact.comparison.codes`: which O*NET-SOC 2019 occupations a SOC 2010, SOC
  2018 or O*NET-SOC code reaches.
- :mod:`~jobimpact.comparison.files`: reading and checking a measure's file.
- :mod:`~jobimpact.comparison.correlation`: weighted correlations with bootstrap
  intervals, and the occupations ranked most differently.
- :mod:`~jobimpact.comparison.text`: the tables ``jobimpact compare`` prints.

The stage itself is :func:`jobimpact.pipeline.compare.run_compare`.
"""

from __future__ import annotations

from jobimpact.comparison.catalog import (
    CODE_SYSTEMS,
    OURS,
    PUBLISHED_MEASURES,
    MeasureSpec,
    published_measure,
    user_measure,
)

__all__ = [
    "CODE_SYSTEMS",
    "OURS",
    "PUBLISHED_MEASURES",
    "MeasureSpec",
    "published_measure",
    "user_measure",
]
