"""Optional libraries, imported on first use with an install hint when they are missing.

jobimpact's core (fetch, ingest, the store, reports) needs no machine learning library;
scoring with local models, embeddings, clustering, calibration and validation need the
``ml`` extra. :func:`require` imports a module or says which extra brings it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from jobimpact.errors import DependencyError

__all__ = ["require"]

# Module → the distribution to name when it is missing (when it differs from the module).
_DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "sentence_transformers": "sentence-transformers",
}


def require(module: str, *, extra: str = "ml", purpose: str = "") -> ModuleType:
    """Import ``module``, or raise :class:`DependencyError` naming the extra to install.

    Parameters
    ----------
    module : str
        Importable module name, e.g. ``sklearn`` or ``sklearn.metrics``.
    extra : str
        The jobimpact extra that installs it.
    purpose : str
        What needs it (e.g. ``clustering``), for the message.

    Raises
    ------
    DependencyError
        ``sklearn: not installed, needed for clustering; install the 'ml' extra: pip
        install 'jobimpact[ml]'``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        name = _DISTRIBUTIONS.get(top, top)
        needed = f", needed for {purpose}" if purpose else ""
        raise DependencyError(
            f"{name}: not installed{needed}; install the {extra!r} extra: "
            f"pip install 'jobimpact[{extra}]'"
        ) from exc
