"""Options shared by several commands, and the one call that turns them into Settings.

Options default to None ("not given"), so that :meth:`jobimpact.Settings.resolve` can
apply the rule argument > ``JOBIMPACT_*`` environment variable > default in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from jobimpact.settings import Settings, env_name

__all__ = ["setting", "settings_from"]

F = TypeVar("F", bound=Callable[..., Any])


def _default_text(field: str) -> str:
    """The default of a setting as the help shows it."""
    value = getattr(Settings(), field)
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def setting(field: str, *flags: str, help: str, **kwargs: Any) -> Callable[[F], F]:
    """A click option for the Settings field ``field`` (default None: not given)."""
    text = f"{help} [default: {_default_text(field)}; env: ${env_name(field)}]"
    option: Callable[[F], F] = click.option(*flags, field, default=None, help=text, **kwargs)
    return option


def settings_from(**options: Any) -> Settings:
    """Settings from a command's options (None: not given), the environment and defaults."""
    return Settings.resolve(**options)


db_option = setting(
    "db", "--db", type=click.Path(dir_okay=False, path_type=Path), help="The DuckDB store."
)
data_dir_option = setting(
    "data_dir",
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where raw sources are kept, under raw/<source>/<version>/.",
)
mirror_option = setting(
    "mirror", "--mirror", help="Folder or http(s) URL laid out like the data mirror."
)
onet_version_option = setting("onet_version", "--onet-version", help="O*NET database release.")
oews_version_option = setting(
    "oews_version", "--oews-version", help="BLS OEWS national release, e.g. M2024 for May 2024."
)
sample_option = setting(
    "sample", "--sample", type=int, help="Score N occupations spread over the major groups."
)
backend_option = setting("backend", "--backend", help="Scoring backend.")
model_option = setting(
    "model", "--model", help="Registered model name, folder, .gguf file, hub id or server model."
)
batch_size_option = setting("batch_size", "--batch-size", type=int, help="Tasks per batch.")
endpoint_option = setting(
    "http_endpoint",
    "--endpoint",
    type=click.Choice(["chat", "completions"]),
    help="HTTP backend: /chat/completions (chat template) or /completions (plain prompt).",
)
no_logprobs_option = click.option(
    "--no-logprobs",
    "logprobs",
    flag_value=False,
    default=None,
    help="HTTP backend, for servers without log-probabilities: ask for none and read each "
    "answer from the text (P(Yes) 0 or 1, stored with method 'zero-shot-text'). "
    f"[env: ${env_name('logprobs')}=false]",
)
embedder_option = setting("embedder", "--embedder", help="Embedding backend.")
embedding_model_option = setting(
    "embedding_model",
    "--model",
    help="Sentence-transformers model id or folder (the embedded MiniLM by default).",
)
out_dir_option = setting(
    "out_dir",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for jobimpact_report.html and .pdf.",
)
formats_option = setting("formats", "--format", help="html, pdf or both, comma-separated.")
labels_option = click.option(
    "--labels",
    type=click.Path(path_type=Path),
    default=None,
    help="Label file with GPTs-are-GPTs columns (default: the fetched full_labelset.tsv).",
)
creation_labels_option = click.option(
    "--creation-labels",
    type=click.Path(path_type=Path),
    default=None,
    help="Economic Index interaction modes by task (default: the fetched file, if any).",
)
usage_option = click.option(
    "--usage",
    type=click.Path(path_type=Path),
    default=None,
    help="Economic Index usage shares by task, the weights of the creation fit (default: "
    "the fetched file, if any).",
)
model_id_option = click.option(
    "--model-id", default=None, help="Model of the scoring to use (default: the latest scored)."
)
rubric_hash_option = click.option(
    "--rubric-hash", default=None, help="Rubric of that scoring (default: the latest)."
)
head_id_option = click.option(
    "--head-id",
    default=None,
    help="Calibration head of that scoring (default: the latest applied; 'none': zero-shot).",
)


def head_choice(value: str | None) -> str | None:
    """``--head-id none`` asks for the zero-shot scores (head id '')."""
    return "" if value == "none" else value
