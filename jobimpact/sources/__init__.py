"""Fetch the public sources jobimpact works on: O*NET, OEWS, SOC crosswalks, reference labels.

``fetch`` downloads each source version from its official URLs or from a mirror (a folder
or an http(s) server laid out like the shared data mirror) into
``data/raw/<source>/<version>/``, checks every file and writes ``manifest.json`` there.
A file a site refuses to send to programs can be downloaded by hand and saved where
:func:`hand_download_path` says; ``fetch`` then checks and uses it.
"""

from __future__ import annotations

from jobimpact.sources.base import FileSpec, Source
from jobimpact.sources.fetch import fetch, hand_download_path
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
    "hand_download_path",
    "read_manifest",
    "verify",
]
