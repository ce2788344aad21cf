"""The known public sources, by name."""

from __future__ import annotations

from jobimpact.errors import ConfigError
from jobimpact.sources import (
    aioe,
    crosswalk,
    crosswalk_2010,
    economic_index,
    frey_osborne,
    gpts_occupations,
    labels,
    oews,
    onet,
    onet_baseline,
    soc,
    working_with_ai,
)
from jobimpact.sources.base import Source

# The sources ingest reads (the current release, employment, the crosswalks, and the earlier
# release new work is judged against), then the reference labels and observed use the heads
# learn from, then the published occupation measures that `jobimpact compare` reads.
SOURCES: dict[str, Source] = {
    module.SOURCE.name: module.SOURCE
    for module in (
        onet,
        oews,
        crosswalk,
        soc,
        onet_baseline,
        crosswalk_2010,
        labels,
        economic_index,
        aioe,
        frey_osborne,
        working_with_ai,
        gpts_occupations,
    )
}


def get_source(name: str) -> Source:
    """Return the source registered as ``name``.

    Parameters
    ----------
    name
        A key of :data:`SOURCES`, e.g. ``"onet"``.

    Returns
    -------
    Source
        The registered source.

    Raises
    ------
    ConfigError
        When no source has that name; the message lists the known names.
    """
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(SOURCES)
        raise ConfigError(f"got unknown source {name!r}, expected one of: {known}") from None
