"""Settings: argument > JOBIMPACT_* environment > default, resolved in one place."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from jobimpact.cli import cli
from jobimpact.errors import ConfigError
from jobimpact.settings import Settings, env_name


def test_an_argument_beats_the_environment_which_beats_the_default() -> None:
    environ = {"JOBIMPACT_DB": "/env/store.duckdb", "JOBIMPACT_BATCH_SIZE": "32"}
    settings = Settings.resolve(environ, db=Path("/arg/store.duckdb"))
    assert settings.db == Path("/arg/store.duckdb")
    assert settings.batch_size == 32
    assert settings.backend == "transformers" and settings.formats == ("html", "pdf")
    assert Settings.resolve({}, sample=None).sample is None  # None means "not given"


def test_types_lists_and_the_cache_variable_are_read_from_the_environment() -> None:
    environ = {"JOBIMPACT_FORMATS": "html, pdf ,", "JOBIMPACT_CACHE": "/tmp/jobimpact-cache"}
    settings = Settings.resolve(environ)
    assert settings.formats == ("html", "pdf")
    assert settings.cache_dir == Path("/tmp/jobimpact-cache")
    assert env_name("cache_dir") == "JOBIMPACT_CACHE" and env_name("db") == "JOBIMPACT_DB"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"JOBIMPACT_BATCH_SIZE": "many"},
            "$JOBIMPACT_BATCH_SIZE: got 'many', expected an integer",
        ),
        ({"JOBIMPACT_SAMPLE": "0"}, "$JOBIMPACT_SAMPLE: got 0, expected a positive integer"),
    ],
)
def test_a_bad_environment_value_names_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.resolve(environ)
    assert str(error.value) == message


def test_unknown_settings_are_refused_and_the_key_is_never_shown() -> None:
    with pytest.raises(ConfigError, match="settings: got colour, expected some of db"):
        Settings.resolve({}, colour="red")
    secret = Settings.resolve({"JOBIMPACT_HTTP_API_KEY": "sk-secret"})
    assert secret.http_api_key == "sk-secret" and "sk-secret" not in repr(secret)


def test_the_cli_reads_the_store_from_the_environment(db: Path) -> None:
    result = CliRunner().invoke(cli, ["status"], env={"JOBIMPACT_DB": str(db)})
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"store: {db} (schema version ")
    bad = CliRunner().invoke(
        cli, ["status"], env={"JOBIMPACT_DB": str(db), "JOBIMPACT_SAMPLE": "x"}
    )
    assert (bad.exit_code, bad.output) == (
        1,
        "Error: $JOBIMPACT_SAMPLE: got 'x', expected an integer\n",
    )
