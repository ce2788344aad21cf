"""The known public sources, by name."""

from __future__ import annotations

from jobimpact.errors import ConfigError
from jobimpact.sources import (
    aioe,
    crosswalk,
    crosswalk_2010,
    frey_osborne,
    gpts_occupations,
    labels,
    oews,
    onet,
    soc,
    working_with_ai,
)
from jobimpact.sources.base import Source

# The sources ingest reads, then the reference labels, then the published occupation
# measures that `jobimpact compare` reads, with the crosswalk that carries SOC 2010 codes.
SOURCES: dict[str, Source] = {
    module.SOURCE.name: module.SOURCE
    for module in (
        onet,
        oews,
        crosswalk,
        soc,
        labels,
        crosswalk_2010,
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
