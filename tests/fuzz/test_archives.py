"""Fuzz the archive readers: zip and tar.gz bundles, hostile by structure or by bytes.

``verify_bundle`` and ``open_bundle`` + ``load_evidence`` either accept the archive or
refuse it (exit 3 or 4, every line naming the archive). Nothing is ever extracted:
after each example the private temp folder is empty and nothing new exists beside
the archive, above it or at the usual escape targets.
"""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

from hypothesis import strategies as st

from auditkit.evidence import load_evidence, open_bundle, verify_bundle

from .conftest import assert_empty, fuzz, refused_or_ok
from .strategies import TAR_TYPES, flip, member_data, members, tar_bytes, valid_members, zip_bytes

THINGS = {"evidence/things.json": b'[{"id": "a", "count": 1}]', "evidence/things.csv": b"id,count\na,1\n"}
ESCAPES = ("escape.txt", "escape-abs.txt")


def _read(path: Path, scratch: Path) -> None:
    name = str(path)
    refused_or_ok(lambda: verify_bundle(path), name)
    assert_empty(scratch)

    def load() -> int:
        with open_bundle(path) as bundle:
            return len(load_evidence(bundle))

    refused_or_ok(load, name)
    assert_empty(scratch)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    for place in (path.parent, path.parent.parent, Path("/tmp"), Path("/")):
        for escape in ESCAPES:
            assert not (place / escape).exists(), place / escape


zip_archives = st.one_of(
    st.tuples(members, st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    .map(lambda t: zip_bytes(valid_members(THINGS) + t[0], t[1])),
    st.tuples(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6))
    .map(lambda t: flip(zip_bytes(valid_members(THINGS), zipfile.ZIP_DEFLATED), t[0])),
    st.binary(max_size=64).map(lambda b: b"PK\x03\x04" + b),
)
tar_entries = st.lists(st.tuples(st.sampled_from(["manifest.yaml", "evidence/things.json", "../escape.txt",
                                                  "/tmp/escape-abs.txt", "evidence/x.json", "evidence"]),
                                 member_data, st.sampled_from(TAR_TYPES)), max_size=4)
tar_archives = st.one_of(
    st.tuples(tar_entries, st.integers(0, 40)).map(
        lambda t: tar_bytes([(n, d, tarfile.REGTYPE) for n, d in valid_members(THINGS)] + t[0], t[1])),
    st.tuples(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6))
    .map(lambda t: flip(tar_bytes([(n, d, tarfile.REGTYPE) for n, d in valid_members(THINGS)]), t[0])),
    st.binary(max_size=64).map(lambda b: b"\x1f\x8b" + b),
)


def _fuzz_archive(target: str, strategy: st.SearchStrategy[bytes], scratch: Path, box: Path) -> None:
    box.mkdir(parents=True)

    def body(raw: bytes) -> None:
        path = box / f"bundle.{target}"
        path.write_bytes(raw)
        try:
            _read(path, scratch)
        finally:
            path.unlink()

    fuzz(target, strategy, body, quick=150)


def test_zip_bundles(private_tmp, tmp_path):
    _fuzz_archive("zip", zip_archives, private_tmp, tmp_path / "box" / "in")


def test_tar_gz_bundles(private_tmp, tmp_path):
    _fuzz_archive("tar.gz", tar_archives, private_tmp, tmp_path / "box" / "in")
