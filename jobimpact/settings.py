"""Settings, resolved once: an argument wins over a ``JOBIMPACT_*`` environment variable,
which wins over the default.

:class:`Settings` is the only place that knows the defaults and reads the environment.
The CLI builds one per command from its options; ``jobimpact.run(settings)`` and the
backends take their values from it (a backend created without a value asks
:meth:`Settings.resolve` for it, so a library user gets the same rule).

====================  ==========================  =====================================
field                 environment variable        default
====================  ==========================  =====================================
db                    JOBIMPACT_DB                data/jobimpact.duckdb
data_dir              JOBIMPACT_DATA_DIR          data
mirror                JOBIMPACT_MIRROR            none: the official sites
cache_dir             JOBIMPACT_CACHE             ~/.cache/jobimpact
onet_version          JOBIMPACT_ONET_VERSION      the source's default (29.3)
oews_version          JOBIMPACT_OEWS_VERSION      the source's default (M2024)
backend               JOBIMPACT_BACKEND           transformers
model                 JOBIMPACT_MODEL             the backend's default model
rubric                JOBIMPACT_RUBRIC            exposure
batch_size            JOBIMPACT_BATCH_SIZE        the backend's (16; 512 for the feature pass)
sample                JOBIMPACT_SAMPLE            none: every task
embedder              JOBIMPACT_EMBEDDER          sentence-transformers
embedding_model       JOBIMPACT_EMBEDDING_MODEL   the embedder's default (MiniLM)
out_dir               JOBIMPACT_OUT_DIR           reports
formats               JOBIMPACT_FORMATS           html,pdf
http_base_url         JOBIMPACT_HTTP_BASE_URL     none
http_model            JOBIMPACT_HTTP_MODEL        none
http_api_key          JOBIMPACT_HTTP_API_KEY      none (never stored or printed)
http_endpoint         JOBIMPACT_HTTP_ENDPOINT     chat (or completions)
logprobs              JOBIMPACT_LOGPROBS          true (false: answers read from text)
lock_wait             JOBIMPACT_LOCK_WAIT         30 (seconds to wait for a store in use)
====================  ==========================  =====================================
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobimpact.errors import ConfigError

__all__ = ["ENV_PREFIX", "Settings"]

ENV_PREFIX = "JOBIMPACT_"


def _env(name: str) -> dict[str, Any]:
    """Field metadata naming an environment variable other than ``JOBIMPACT_<FIELD>``."""
    return {"env": name}


@dataclass(frozen=True)
class Settings:
    """Every setting of a jobimpact run (see the module docstring for the table).

    Build with :meth:`resolve` to apply the environment; the constructor takes values
    as given (defaults for the rest).
    """

    db: Path = Path("data") / "jobimpact.duckdb"
    data_dir: Path = Path("data")
    mirror: str | None = None
    cache_dir: Path = field(
        default_factory=lambda: Path.home() / ".cache" / "jobimpact",
        metadata=_env("JOBIMPACT_CACHE"),
    )
    onet_version: str | None = None
    oews_version: str | None = None
    backend: str = "transformers"
    model: str | None = None
    rubric: str | None = None
    batch_size: int | None = None
    sample: int | None = None
    embedder: str = "sentence-transformers"
    embedding_model: str | None = None
    out_dir: Path = Path("reports")
    formats: tuple[str, ...] = ("html", "pdf")
    http_base_url: str | None = None
    http_model: str | None = None
    http_api_key: str | None = field(default=None, repr=False)
    http_endpoint: str = "chat"
    logprobs: bool = True
    lock_wait: int = 30

    @classmethod
    def resolve(cls, environ: Mapping[str, str] | None = None, **arguments: Any) -> Settings:
        """Settings from ``arguments`` (None means not given), else the environment,
        else the defaults.

        Parameters
        ----------
        environ : Mapping, optional
            The environment to read (``os.environ`` by default).
        **arguments
            Field values; a None value counts as not given.

        Raises
        ------
        ConfigError
            For an unknown field, or an environment value of the wrong type.
        """
        env = os.environ if environ is None else environ
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(arguments) - set(fields))
        if unknown:
            raise ConfigError(
                f"settings: got {', '.join(unknown)}, expected some of {', '.join(fields)}"
            )
        values: dict[str, Any] = {}
        for name, spec in fields.items():
            given = arguments.get(name)
            if given is not None:
                values[name] = _convert(name, spec.type, given, source=f"{name}")
                continue
            variable = env_name(name)
            raw = env.get(variable, "")
            if raw.strip():
                values[name] = _convert(name, spec.type, raw.strip(), source=f"${variable}")
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (None values are ignored)."""
        given = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **given)


def env_name(field_name: str) -> str:
    """The environment variable of a :class:`Settings` field."""
    spec = {f.name: f for f in dataclasses.fields(Settings)}[field_name]
    return str(spec.metadata.get("env", ENV_PREFIX + field_name.upper()))


def _convert(name: str, kind: Any, value: Any, *, source: str) -> Any:
    """A value in the field's type; ConfigError naming where it came from."""
    text = str(kind)
    if "Path" in text:
        return Path(value).expanduser()
    if text.startswith("int"):
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{source}: got {value!r}, expected an integer") from None
        if number < 1:
            raise ConfigError(f"{source}: got {number}, expected a positive integer")
        return number
    if text == "bool":
        return _boolean(value, source=source)
    if text.startswith("tuple"):
        items = value.split(",") if isinstance(value, str) else list(value)
        parts = tuple(str(item).strip() for item in items if str(item).strip())
        if not parts:
            raise ConfigError(f"{source}: got {value!r}, expected a comma-separated list")
        return parts
    return str(value)


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _boolean(value: Any, *, source: str) -> bool:
    """A bool, or one of true/false, yes/no, on/off, 1/0 (any case)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ConfigError(f"{source}: got {value!r}, expected true or false")
