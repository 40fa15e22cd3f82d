"""What a compliance team meets building a bundle: kinds from folders, ignored litter, the editor hint,
kinds checked against the catalog, collection times, unparseable files and honest hints."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from auditkit.resources import schema_dir

from .test_hostile import error_lines

SAMPLE = Path(__file__).resolve().parents[2] / "evidence_samples" / "acme-us" / "evidence"
INIT = ("--id", "acme-q3", "--organization", "Acme", "--period-start", "2026-07-01", "--period-end",
        "2026-09-30", "--submitter-name", "Dana Whit", "--submitter-email", "dana@acme.example")


@pytest.fixture
def folder(sandbox: Path) -> Path:
    root = sandbox / "b"
    (root / "evidence" / "asset-inventory").mkdir(parents=True)
    for name in ("snapshot-2026-07-31.json", "snapshot-2026-08-31.json"):
        shutil.copy(SAMPLE / "asset-inventory" / name, root / "evidence" / "asset-inventory" / name)
    shutil.copy(SAMPLE / "agreement-register.csv", root / "evidence" / "agreement-register.csv")
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "evidence" / "._agreement-register.csv").write_bytes(b"\0\5\26\7")
    past = dt.datetime(2026, 9, 30, tzinfo=dt.UTC).timestamp()
    for path in root.rglob("*"):
        os.utime(path, (past, past))
    return root


def _manifest(folder: Path) -> str:
    return (folder / "manifest.yaml").read_text()


def test_init_takes_the_kind_from_the_folder_and_ignores_litter(cli, folder):
    result = cli("bundle", "init", folder, *INIT)
    assert result.exit_code == 0, result.stderr
    text = _manifest(folder)
    assert "path: evidence/asset-inventory/snapshot-2026-07-31.json\n  kind: asset-inventory\n" in text
    assert "kind: snapshot" not in text
    assert "DS_Store" not in text and "._agreement" not in text
    assert "auditkit: ignored: .DS_Store" in result.stderr
    assert "not listed" not in result.stderr
    # seal and verify accept the folder with its litter left in place
    assert cli("bundle", "seal", folder).exit_code == 0
    assert cli("bundle", "verify", folder).exit_code == 0


def test_ignore_file_adds_patterns(cli, folder):
    (folder / "evidence" / "draft-notes.txt").write_text("not for the auditor")
    (folder / ".auditkitignore").write_text("# working files\ndraft-*\n")
    assert cli("bundle", "init", folder, *INIT).exit_code == 0
    assert "draft-notes" not in _manifest(folder)
    assert cli("bundle", "seal", folder).exit_code == 0


def test_schema_hint_resolves_outside_the_source_tree(cli, folder):
    assert cli("bundle", "init", folder, *INIT).exit_code == 0
    first = _manifest(folder).splitlines()[0]
    target = (schema_dir() / "manifest.schema.json").as_uri()
    assert first == f"# yaml-language-server: $schema={target}"
    assert Path(target.removeprefix("file://")).is_file()
    # seal keeps whatever hint the manifest has
    text = _manifest(folder).replace(first, "# yaml-language-server: $schema=https://schemas.acme.example/m.json")
    (folder / "manifest.yaml").write_text(text)
    assert cli("bundle", "seal", folder).exit_code == 0
    assert _manifest(folder).startswith("# yaml-language-server: $schema=https://schemas.acme.example/m.json\n")


def test_unknown_kind_is_named_with_the_nearest(cli, folder, root):
    assert cli("bundle", "init", folder, *INIT).exit_code == 0
    (folder / "manifest.yaml").write_text(_manifest(folder).replace("kind: agreement-register", "kind: agreement-registr"))
    warned = cli("bundle", "seal", folder)
    assert warned.exit_code == 0
    line = "/items/0/kind: 'agreement-registr' is not an evidence kind of the catalog (did you mean 'agreement-register'?)"
    assert f"auditkit: warning: {folder / 'manifest.yaml'} {line}" in warned.stderr
    verified = cli("bundle", "verify", folder)
    assert verified.exit_code == 0 and line in verified.stderr
    refused = cli("bundle", "seal", folder, "--controls", root / "controls")
    assert refused.exit_code == 3 and line in refused.stderr
    strict = cli("bundle", "verify", folder, "--controls", root / "controls")
    assert strict.exit_code == 3 and line in strict.stderr


def test_collected_after_creation_is_refused(cli, folder):
    assert cli("bundle", "init", folder, *INIT).exit_code == 0
    text = _manifest(folder)
    created = next(line.split(": ", 1)[1] for line in text.splitlines() if line.strip().startswith("created:"))
    late = (dt.datetime.fromisoformat(created) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = next(line for line in text.splitlines() if "collected_at:" in line)
    (folder / "manifest.yaml").write_text(text.replace(first, f"  collected_at: {late}", 1))
    result = cli("bundle", "seal", folder)
    assert result.exit_code == 3
    (line,) = error_lines(result)
    assert f"/items/0/collected_at: collected at {late}, after the bundle was created ({created})" in line


def test_seal_refuses_unparseable_json(cli, folder):
    (folder / "evidence" / "kms-inventory.json").write_text('{"keys": [')
    assert cli("bundle", "init", folder, *INIT).exit_code == 0
    before = _manifest(folder)
    result = cli("bundle", "seal", folder)
    assert result.exit_code == 3
    (line,) = error_lines(result)
    assert "evidence/kms-inventory.json:1:" in line and "invalid JSON" in line
    assert _manifest(folder) == before  # nothing sealed


def test_add_unlisted_is_suggested_only_where_it_works(cli, folder):
    assert cli("bundle", "init", folder, *INIT).exit_code == 0
    assert cli("bundle", "seal", folder).exit_code == 0
    (folder / "evidence" / "contract.docx").write_bytes(b"PK\3\4")
    (folder / "evidence" / "2026-09-30.json").write_text("{}")
    (folder / "evidence" / "gateway-rules.json").write_text("[]")
    result = cli("bundle", "seal", folder)
    assert result.exit_code == 3
    lines = {line.split("evidence/")[1].split(":")[0].strip('"'): line for line in error_lines(result)
             if "evidence/" in line}
    assert "--add-unlisted" in lines["gateway-rules.json"]
    assert "--add-unlisted" not in lines["contract.docx"] and "cannot be evidence" in lines["contract.docx"]
    assert "--add-unlisted" not in lines["2026-09-30.json"] and "with its kind" in lines["2026-09-30.json"]


def test_one_line_per_unknown_kind_not_per_item(cli, folder, root):
    """Two items of the same misspelt kind: one warning naming the first and counting the rest."""
    assert cli("bundle", "init", folder, *INIT).exit_code == 0
    text = _manifest(folder)
    assert text.count("kind: asset-inventory") == 2
    (folder / "manifest.yaml").write_text(text.replace("kind: asset-inventory", "kind: asset-inventry"))
    first = text[: text.index("kind: asset-inventory")].count("kind: ")
    line = (f"/items/{first}/kind and 1 more item(s): 'asset-inventry' is not an evidence kind "
            "of the catalog (did you mean 'asset-inventory'?)")
    for result in (cli("bundle", "seal", folder), cli("bundle", "verify", folder)):
        assert result.exit_code == 0
        warnings = [w for w in result.stderr.splitlines() if "is not an evidence kind" in w]
        assert warnings == [f"auditkit: warning: {folder / 'manifest.yaml'} {line}"]
    refused = cli("bundle", "verify", folder, "--controls", root / "controls")
    assert refused.exit_code == 3 and line in refused.stderr
