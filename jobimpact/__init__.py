"""jobimpact: measure how large language models change work.

Scores O*NET task statements for exposure, displacement and creation with an LLM,
clusters tasks into families, rolls scores up to occupations and employment, stores
everything with provenance in DuckDB and writes reports.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
