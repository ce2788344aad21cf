"""The known public sources, by name."""

from __future__ import annotations

from jobimpact.errors import ConfigError
from jobimpact.sources import (
    crosswalk,
    economic_index,
    labels,
    oews,
    onet,
    onet_baseline,
    soc,
    taxonomy,
)
from jobimpact.sources.base import Source

SOURCES: dict[str, Source] = {
    module.SOURCE.name: module.SOURCE
    for module in (onet, oews, crosswalk, soc, labels, onet_baseline, taxonomy, economic_index)
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
