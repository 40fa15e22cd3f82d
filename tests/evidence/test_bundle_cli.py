"""``auditkit bundle`` end to end: init, seal, pack, verify, inspect, and tampering after sealing."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tarfile
import zipfile

import pytest

from auditkit.errors import IntegrityError
from auditkit.evidence import (
    guess_kind,
    init_bundle,
    load_evidence,
    open_bundle,
    pack_bundle,
    seal_bundle,
    verify_bundle,
)

from .conftest import FILES
from .test_hostile import error_lines


@pytest.fixture
def raw_folder(sandbox):
    folder = sandbox / "bundle"
    for path, data in FILES.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    return folder


INIT = ["--id", "acme-us-2026-q3", "--organization", "Acme U.S. Data Security Inc.",
        "--period-start", "2026-07-01", "--period-end", "2026-09-30",
        "--submitter-name", "Dana Whit", "--submitter-email", "dana.whit@acme.example"]


@pytest.fixture
def sealed(cli, raw_folder):
    assert cli("bundle", "init", raw_folder, *INIT).exit_code == 0
    result = cli("bundle", "seal", raw_folder)
    assert result.exit_code == 0, result.stderr
    return raw_folder, result.stdout.strip()


def test_init_seal_verify_pack_round_trip(cli, sealed, sandbox):
    folder, root = sealed
    assert len(root) == 64
    text = (folder / "manifest.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert "kind: board-minutes\n" in text and "kind: datastore-inventory\n" in text
    result = cli("bundle", "verify", folder)
    assert result.exit_code == 0
    assert result.stdout.startswith("OK ") and f"root hash {root}" in result.stdout
    for name in ("b.zip", "b.tar.gz"):
        packed = cli("bundle", "pack", folder, "-o", sandbox / name)
        assert packed.exit_code == 0, packed.stderr
        assert packed.stdout.strip() == root
        check = cli("bundle", "verify", sandbox / name, "--format", "json")
        assert check.exit_code == 0
        report = json.loads(check.stdout)
        assert report["root_hash"] == root and report["item_count"] == 3 and report["verdict"] == "ok"


def test_pack_is_deterministic(cli, sealed, sandbox):
    folder, _ = sealed
    for name in ("a.zip", "b.zip", "a.tar.gz", "b.tar.gz"):
        assert cli("bundle", "pack", folder, "-o", sandbox / name).exit_code == 0
    assert (sandbox / "a.zip").read_bytes() == (sandbox / "b.zip").read_bytes()
    assert (sandbox / "a.tar.gz").read_bytes() == (sandbox / "b.tar.gz").read_bytes()
    with zipfile.ZipFile(sandbox / "a.zip") as archive:
        names = archive.namelist()
        assert names[0] == "manifest.yaml" and names[1:] == sorted(FILES)
        assert len({i.date_time for i in archive.infolist()}) == 1
    with tarfile.open(sandbox / "a.tar.gz") as archive:
        assert [m.name for m in archive.getmembers()][1:] == sorted(FILES)
        assert {m.uid for m in archive.getmembers()} == {0}


def test_file_changed_after_sealing_exit_4_naming_it(cli, sealed):
    folder, _ = sealed
    target = folder / "evidence/egress-flow-log.csv"
    data = bytearray(target.read_bytes())
    data[-2] = ord("X")  # same size, different content
    target.write_bytes(bytes(data))
    result = cli("bundle", "verify", folder)
    assert result.exit_code == 4
    (line,) = error_lines(result)
    assert "evidence/egress-flow-log.csv" in line and "SHA-256" in line
    with pytest.raises(IntegrityError):
        verify_bundle(folder)
    assert cli("bundle", "pack", folder, "-o", folder.parent / "x.zip").exit_code == 4
    assert not (folder.parent / "x.zip").exists()


def test_size_change_exit_4(cli, sealed):
    folder, _ = sealed
    with open(folder / "evidence/board-minutes-2026-q3.pdf", "ab") as handle:
        handle.write(b"more")
    result = cli("bundle", "verify", folder)
    assert result.exit_code == 4 and "board-minutes-2026-q3.pdf" in result.stderr and "bytes" in result.stderr


def test_file_added_after_sealing_exit_3(cli, sealed):
    folder, _ = sealed
    (folder / "evidence" / "late.txt").write_text("added later")
    collected = 1790000000  # 2026-09-21, before the bundle was created (2026-10-03)
    os.utime(folder / "evidence" / "late.txt", (collected, collected))
    result = cli("bundle", "verify", folder)
    assert result.exit_code == 3
    (line,) = error_lines(result)
    assert "evidence/late.txt" in line and "not listed" in line
    # seal refuses too, unless told to add it
    assert cli("bundle", "seal", folder).exit_code == 3
    assert cli("bundle", "seal", folder, "--add-unlisted").exit_code == 0
    assert "path: evidence/late.txt\n  kind: late\n" in (folder / "manifest.yaml").read_text()
    assert cli("bundle", "verify", folder).exit_code == 0


def test_file_removed_after_sealing_exit_3(cli, sealed):
    folder, _ = sealed
    (folder / "evidence/datastore-inventory.json").unlink()
    result = cli("bundle", "verify", folder)
    assert result.exit_code == 3
    assert "datastore-inventory.json: listed in the manifest but not in the bundle" in result.stderr


def test_every_reason_is_listed(cli, sealed):
    folder, _ = sealed
    (folder / "evidence/datastore-inventory.json").unlink()
    (folder / "evidence" / "late.txt").write_text("x")
    (folder / "evidence/egress-flow-log.csv").write_text("src,dst,bytes,allowed\n1,2,3,false\n")
    result = cli("bundle", "verify", folder)
    assert result.exit_code == 4  # integrity failures win
    text = result.stderr
    for name in ("datastore-inventory.json", "late.txt", "egress-flow-log.csv"):
        assert name in text


def test_unsealed_folder_cannot_be_packed(cli, raw_folder, sandbox):
    assert cli("bundle", "init", raw_folder, *INIT).exit_code == 0
    result = cli("bundle", "pack", raw_folder, "-o", sandbox / "x.zip")
    assert result.exit_code == 3 and "sha256" in result.stderr
    assert not (sandbox / "x.zip").exists()
    assert cli("bundle", "pack", raw_folder, "-o", raw_folder / "x.zip").exit_code == 2
    assert cli("bundle", "pack", raw_folder, "-o", sandbox / "x.rar").exit_code == 2


def test_init_refuses_to_overwrite(cli, raw_folder):
    assert cli("bundle", "init", raw_folder, *INIT).exit_code == 0
    assert cli("bundle", "init", raw_folder, *INIT).exit_code == 2
    assert cli("bundle", "init", raw_folder, *INIT, "--force").exit_code == 0


def test_unparseable_evidence_fails_verify(cli, make_folder):
    folder = make_folder({**FILES, "evidence/broken.json": b'{"a": }'})
    result = cli("bundle", "verify", folder)
    assert result.exit_code == 3
    assert "evidence/broken.json:1:7: invalid JSON" in result.stderr


def test_load_evidence_verdicts(make_folder):
    folder = make_folder({**FILES, "evidence/rows.csv": b"a,b\n1,x\n"})
    (folder / "evidence/datastore-inventory.json").write_text("[]")
    with open_bundle(folder) as bundle:
        loaded = {e.item.path: e for e in load_evidence(bundle)}
    assert loaded["evidence/rows.csv"].content == [{"a": 1, "b": "x"}]
    assert loaded["evidence/datastore-inventory.json"].integrity == "size-mismatch"
    assert loaded["evidence/board-minutes-2026-q3.pdf"].integrity == "ok"
    assert loaded["evidence/board-minutes-2026-q3.pdf"].content is None


def test_too_large_to_parse(make_folder):
    from auditkit.evidence import Limits

    folder = make_folder()
    with open_bundle(folder, Limits(max_parse_size=10)) as bundle:
        loaded = {e.item.path: e for e in load_evidence(bundle)}
    assert loaded["evidence/datastore-inventory.json"].integrity == "too-large"
    assert loaded["evidence/board-minutes-2026-q3.pdf"].integrity == "ok"


def test_inspect_per_kind_and_control(cli, sealed):
    folder, root = sealed
    result = cli("bundle", "inspect", folder, "--format", "json", "--as-of", "2026-10-15")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["root_hash"] == root
    assert {k["kind"] for k in data["kinds"]} == {"board-minutes", "datastore-inventory", "egress-flow-log"}
    assert data["controls"], "the shipped catalog has controls"
    assert all({"id", "has", "lacks"} <= set(c) for c in data["controls"])
    table = cli("bundle", "inspect", folder)
    assert table.exit_code == 0 and "KIND" in table.stdout and "CONTROL" in table.stdout


def test_library_api_round_trip(raw_folder, sandbox):
    collected = dt.datetime(2026, 3, 31, tzinfo=dt.UTC).timestamp()  # before the bundle is created
    for path in raw_folder.rglob("*"):
        os.utime(path, (collected, collected))
    path = init_bundle(raw_folder, bundle_id="x-1", organization="X", period_start=dt.date(2026, 1, 1),
                       period_end=dt.date(2026, 3, 31), submitter_name="N", submitter_email="n@x.example",
                       created=dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
    assert path.name == "manifest.yaml"
    root = seal_bundle(raw_folder)
    assert pack_bundle(raw_folder, sandbox / "x.tar.gz") == root
    report = verify_bundle(sandbox / "x.tar.gz")
    assert (report.root_hash, report.item_count, report.signed) == (root, 3, False)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("evidence/datastore-inventory-2026-09-30.json", "datastore-inventory"),
     ("board_minutes_2026Q3.pdf", "board-minutes"), ("scan001.png", "scan"),
     ("Egress Flow Log.csv", "egress-flow-log"), ("2026-09-30.json", None), ("Überblick.md", None)],
)
def test_guess_kind(name, kind):
    assert guess_kind(name) == kind


def test_verify_against_a_profile(cli, sealed):
    folder, _ = sealed
    result = cli("bundle", "verify", folder, "--profile", "default", "--as-of", "2026-10-15")
    assert result.exit_code == 3
    assert "required evidence is missing" in result.stderr


def test_public_api_names_resolve():
    import auditkit.evidence as evidence

    for name in evidence.__all__:
        assert getattr(evidence, name) is not None
    assert set(evidence.__all__) == set(evidence._API)


def test_verify_starts_hashing_before_pydantic_is_imported():
    import subprocess
    import sys

    code = ("import sys; from auditkit.evidence import verify_bundle, seal_bundle, Limits; "
            "print('pydantic' in sys.modules, 'jsonschema' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_verify_json_failure_verdict(cli, sealed):
    folder, _ = sealed
    (folder / "evidence/egress-flow-log.csv").write_text("src,dst,bytes,allowed\n1,2,3,false\n")
    result = cli("bundle", "verify", folder, "--format", "json")
    assert result.exit_code == 4
    verdict = json.loads(result.stdout)
    assert verdict["verdict"] == "failed" and verdict["exit_code"] == 4
    assert any("egress-flow-log.csv" in line for line in verdict["problems"])


def test_schema_failing_manifest_in_an_archive(cli, sandbox):
    from .conftest import manifest_for, zip_bytes

    text = manifest_for(FILES).replace("sha256: ", "sha256: X", 1).replace("size: 57", "size: big")
    bundle = sandbox / "bad.zip"
    bundle.write_bytes(zip_bytes([("manifest.yaml", text.encode()), *FILES.items()]))
    result = cli("bundle", "verify", bundle)
    assert result.exit_code == 3
    lines = [line for line in result.stderr.splitlines() if "bad.zip!manifest.yaml:" in line]
    assert len(lines) == 2, result.stderr
    assert any("/items/0/sha256:" in line for line in lines)
    assert all(re.search(r"manifest\.yaml:\d+:\d+ /items/\d+/\w+: ", line) for line in lines)


def test_seal_honours_max_file_size_over_the_default(cli, raw_folder):
    """A member above the default 512 MiB cap seals, and verifies, once the cap is raised.

    The file is sparse: it costs no disk, only the reading.
    """
    assert cli("bundle", "init", raw_folder, *INIT).exit_code == 0
    big = raw_folder / "evidence" / "big.txt"
    with big.open("wb") as out:
        out.truncate(513 << 20)
    refused = cli("bundle", "seal", raw_folder, "--add-unlisted")
    assert refused.exit_code == 3 and "per-file limit" in refused.stderr
    result = cli("bundle", "seal", raw_folder, "--add-unlisted", "--max-file-size", "1GiB")
    assert result.exit_code == 0, result.stderr
    assert "per-file limit" not in result.stderr
    root = result.stdout.strip()
    verified = cli("bundle", "verify", raw_folder, "--max-file-size", "1GiB")
    assert verified.exit_code == 0, verified.stderr
    assert f"root hash {root}" in verified.stdout
