"""Fetch the public sources jobimpact works on: O*NET, OEWS, SOC crosswalks, reference labels.

``fetch`` downloads each source version from its official URLs or from a mirror (a folder
or an http(s) server laid out like the shared data mirror) into
``data/raw/<source>/<version>/``, checks every file and writes ``manifest.json`` there.
"""

from __future__ import annotations

from jobimpact.sources.base import FileSpec, Source
from jobimpact.sources.fetch import fetch
from jobimpact.sources.manifest import Manifest, ManifestFile, read_manifest, verify
from jobimpact.sources.registry import SOURCES, get_source

__all__ = [
    "SOURCES",
    "FileSpec",
    "Manifest",
    "ManifestFile",
    "Source",
    "fetch",
    "get_source",
    "read_manifest",
    "verify",
]
