"""The catalog cache: hits give the same catalog; tampered, foreign or exposed entries are never used."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from auditkit.catalog import cache, loader
from auditkit.catalog.loader import load_catalog


@pytest.fixture
def private(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDITKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AUDITKIT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("AUDITKIT_NO_CACHE", raising=False)
    controls = tmp_path / "controls"
    shutil.copytree(loader.data_dir("controls"), controls)
    return tmp_path, controls


def _entries(base: Path) -> list[Path]:
    return sorted((base / "cache").glob("*.json"))


def _no_rebuild(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the catalog was rebuilt instead of read from the cache")

    monkeypatch.setattr(loader, "_build_catalog", refuse)


def test_second_load_is_a_hit_and_equal(private, monkeypatch):
    base, controls = private
    first = load_catalog([controls])
    assert len(_entries(base)) == 1
    assert oct((base / "config" / "cache-key").stat().st_mode & 0o777) == "0o600"
    assert first.expressions and all(isinstance(v.variables, tuple) for v in first.expressions.values())
    _no_rebuild(monkeypatch)
    assert load_catalog([controls]) == first


def test_changed_file_is_a_miss(private):
    base, controls = private
    load_catalog([controls])
    family = next(controls.glob("*.yaml"))
    family.write_text(family.read_text().replace("title:", "title: Changed", 1))
    changed = load_catalog([controls])
    assert len(_entries(base)) == 2
    assert changed.digest != load_catalog([loader.data_dir("controls")]).digest


def test_tampered_entry_is_ignored_and_rebuilt(private):
    base, controls = private
    real = load_catalog([controls])
    entry = _entries(base)[0]
    tag, payload = entry.read_bytes().split(b"\n", 1)
    data = json.loads(payload)
    data["families"][0]["controls"][0]["severity"] = "low"
    data["families"][0]["controls"][0]["checks"] = []
    entry.write_bytes(tag + b"\n" + json.dumps(data).encode())
    assert load_catalog([controls]) == real


def test_entries_made_with_another_key_are_ignored(private, tmp_path, monkeypatch):
    """A cache folder copied from elsewhere (say a restored CI cache) cannot forge an entry."""
    base, controls = private
    real = load_catalog([controls])
    entry = _entries(base)[0]
    forged = json.loads(entry.read_bytes().split(b"\n", 1)[1])
    forged["families"][0]["controls"][0]["title"] = "Forged"
    payload = json.dumps(forged).encode()
    monkeypatch.setenv("AUDITKIT_CONFIG_DIR", str(tmp_path / "attacker"))
    cache.put(entry.stem, payload)  # a valid entry under the attacker's own key
    monkeypatch.setenv("AUDITKIT_CONFIG_DIR", str(base / "config"))
    assert load_catalog([controls]) == real


def test_cache_writable_by_others_is_not_used(private, monkeypatch):
    base, controls = private
    load_catalog([controls])
    os.chmod(base / "cache", 0o777)
    _no_rebuild(monkeypatch)
    with pytest.raises(AssertionError, match="rebuilt"):
        load_catalog([controls])


def test_no_cache_switch(private, monkeypatch):
    base, controls = private
    monkeypatch.setenv("AUDITKIT_NO_CACHE", "1")
    load_catalog([controls])
    assert _entries(base) == []


def test_assess_results_are_identical_cold_and_warm(private, invoke, root, tmp_path):
    base, controls = private
    bundle = root / "evidence_samples" / "acme-us"
    outputs = []
    for name in ("cold.json", "warm.json"):
        result = invoke("assess", bundle, "--controls", controls, "--as-of", "2026-10-15", "-o", tmp_path / name)
        assert result.exit_code in (0, 1), result.output
        outputs.append((tmp_path / name).read_bytes())
    assert len(_entries(base)) == 1
    assert outputs[0] == outputs[1]
