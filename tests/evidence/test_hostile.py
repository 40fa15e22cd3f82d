"""Every hostile-bundle case of DESIGN §6 is refused with one line naming the member (exit 3)."""

from __future__ import annotations

import io
import os
import stat
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import pytest

from auditkit.errors import InvalidInputError
from auditkit.evidence import Limits, load_evidence, open_bundle, verify_bundle

from .conftest import (
    FILES,
    assert_not_escaped,
    item_yaml,
    manifest_for,
    tar_gz_bytes,
    valid_members,
    zip_bytes,
)


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("auditkit: error:")]


def refused(cli, bundle: Path, member: str, reason: str, *options: str, code: int = 3) -> str:
    result = cli("bundle", "verify", bundle, *options)
    assert result.exit_code == code, result.stderr
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert member in lines[0], lines[0]
    assert reason in lines[0], lines[0]
    assert result.stdout == ""
    return lines[0]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---- names ---------------------------------------------------------------------------------


def test_zip_member_dotdot(cli, sandbox):
    bundle = write(sandbox / "b.zip", zip_bytes([*valid_members(), ("../../escape-dotdot.txt", b"x")]))
    refused(cli, bundle, "../../escape-dotdot.txt", "'..'")
    assert_not_escaped(sandbox, "escape-dotdot.txt")


def test_zip_absolute_path(cli, sandbox):
    bundle = write(sandbox / "b.zip", zip_bytes([*valid_members(), ("/tmp/escape-abs.txt", b"x")]))
    refused(cli, bundle, "/tmp/escape-abs.txt", "absolute path")
    assert_not_escaped(sandbox, "escape-abs.txt")


def test_tar_member_dotdot(cli, sandbox):
    bundle = write(sandbox / "b.tar.gz", tar_gz_bytes([*valid_members(), ("../escape-tar.txt", b"x")]))
    refused(cli, bundle, "../escape-tar.txt", "'..'")
    assert_not_escaped(sandbox, "escape-tar.txt")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("evidence/a\x1b[31m.txt", "control character U+001B"),
        ("evidence/invoice\u202etxt.pdf", "bidi"),
        ("evidence/zero\u200bwidth.txt", "bidi or invisible"),
        ("evidence\\windows.txt", "backslash"),
        ("C:/evidence.txt", "drive letter"),
    ],
)
def test_zip_bad_characters(cli, sandbox, name, reason):
    bundle = write(sandbox / "b.zip", zip_bytes([*valid_members(), (name, b"x")]))
    line = refused(cli, bundle, "b.zip!", reason)
    assert "\x1b" not in line and "\u202e" not in line and "\u200b" not in line  # escaped on output


def test_tar_nul_in_name(cli, sandbox):
    bundle = write(sandbox / "b.tar.gz", tar_gz_bytes([*valid_members(), ("evidence/é\x00x.txt", b"x")]))
    line = refused(cli, bundle, "evidence/é\\x00x.txt", "NUL")
    assert "\x00" not in line


def test_zip_non_utf8_name(cli, sandbox):
    data = zip_bytes([*valid_members(), ("evidence/aXb.txt", b"x")]).replace(b"aXb", b"a\xffb")
    bundle = write(sandbox / "b.zip", data)
    refused(cli, bundle, "evidence/a", "not valid UTF-8")


def test_folder_non_utf8_name(cli, make_folder):
    folder = make_folder()
    with open(os.path.join(os.fsencode(folder), b"evidence/bad\xff.txt"), "wb") as handle:
        handle.write(b"x")
    refused(cli, folder, "evidence/bad\\xff.txt", "not valid UTF-8")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("evidence/Report.txt", "evidence/report.txt"),
        ("evidence/caf\u00e9.txt", "evidence/cafe\u0301.txt"),
        ("evidence/x.txt", "evidence/x.txt"),
    ],
)
def test_zip_duplicate_names(cli, sandbox, first, second):
    with pytest.warns(UserWarning) if first == second else _nothing():
        data = zip_bytes([*valid_members(), (first, b"one"), (second, b"two")])
    bundle = write(sandbox / "b.zip", data)
    refused(cli, bundle, "b.zip!", "duplicate name")


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# ---- links and special files ---------------------------------------------------------------


def test_tar_symlink_to_etc_passwd(cli, sandbox):
    link = tarfile.TarInfo("evidence/passwd.txt")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    bundle = write(sandbox / "b.tar.gz", tar_gz_bytes([*valid_members(), link]))
    line = refused(cli, bundle, "evidence/passwd.txt", "symbolic link")
    assert "/etc/passwd" in line
    assert_not_escaped(sandbox, "passwd.txt")


@pytest.mark.parametrize(("kind", "reason"), [(tarfile.LNKTYPE, "hard link"),
                                              (tarfile.CHRTYPE, "device"),
                                              (tarfile.FIFOTYPE, "device or pipe")])
def test_tar_links_and_devices(cli, sandbox, kind, reason):
    special = tarfile.TarInfo("evidence/special.txt")
    special.type = kind
    special.linkname = "manifest.yaml" if kind == tarfile.LNKTYPE else ""
    bundle = write(sandbox / "b.tar.gz", tar_gz_bytes([*valid_members(), special]))
    refused(cli, bundle, "evidence/special.txt", reason)


def test_zip_symlink(cli, sandbox):
    info = zipfile.ZipInfo("evidence/passwd.txt")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    bundle = write(sandbox / "b.zip", zip_bytes([*valid_members(), (info, b"/etc/passwd")]))
    refused(cli, bundle, "evidence/passwd.txt", "symbolic link")


def test_folder_symlink(cli, make_folder):
    folder = make_folder()
    os.symlink("/etc/passwd", folder / "evidence" / "passwd.txt")
    refused(cli, folder, "evidence/passwd.txt", "symbolic link")


def test_folder_fifo(cli, make_folder):
    folder = make_folder()
    os.mkfifo(folder / "evidence" / "pipe.txt")
    refused(cli, folder, "evidence/pipe.txt", "device, pipe or socket")


def test_folder_hard_link(cli, make_folder):
    folder = make_folder()
    os.link(folder / "evidence" / "egress-flow-log.csv", folder / "evidence" / "copy.csv")
    result = cli("bundle", "verify", folder)
    assert result.exit_code == 3
    assert "hard link" in result.stderr


# ---- sizes, counts and bombs ---------------------------------------------------------------


def test_too_many_files(cli, sandbox):
    extra = [(f"evidence/f{i}.txt", b"x") for i in range(10)]
    bundle = write(sandbox / "b.zip", zip_bytes([*valid_members(), *extra]))
    refused(cli, bundle, "b.zip", "over the limit of 5", "--max-files", "5")


def test_total_size_cap(cli, sandbox):
    extra = [(f"evidence/f{i}.txt", b"x" * 400) for i in range(3)]
    bundle = write(sandbox / "b.zip", zip_bytes([*valid_members(), *extra]))
    refused(cli, bundle, "b.zip!", "total limit", "--max-size", "1000")


def test_per_file_cap(cli, sandbox):
    bundle = write(sandbox / "b.zip", zip_bytes([*valid_members(), ("evidence/big.txt", b"y" * 5000)]))
    refused(cli, bundle, "evidence/big.txt", "per-file limit", "--max-file-size", "4KiB")


@pytest.fixture(scope="session")
def zip_bomb(tmp_path_factory) -> Path:
    """About 1 MB of zip expanding to 1 GiB of zeros."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, data in valid_members():
            archive.writestr(name, data)
        with archive.open("evidence/bomb.txt", "w", force_zip64=True) as out:
            chunk = bytes(1 << 20)
            for _ in range(1024):
                out.write(chunk)
    return path


def test_zip_bomb_refused_by_caps(cli, sandbox, zip_bomb):
    assert zip_bomb.stat().st_size < 2_000_000
    refused(cli, zip_bomb, "evidence/bomb.txt", "per-file limit")
    line = refused(cli, zip_bomb, "evidence/bomb.txt", "compression ratio", "--max-file-size", "2GiB")
    assert "zip bomb" in line


def test_zip_members_sharing_data(cli, sandbox):
    """Two central-directory entries pointing at one local header (overlapping zip bomb)."""
    data = zip_bytes([*valid_members(), ("evidence/aaaa.txt", b"z" * 100)], zipfile.ZIP_STORED)
    end = data.rindex(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack("<II", data[end + 12 : end + 20])
    central = data[cd_offset : cd_offset + cd_size]
    last = central.rindex(b"PK\x01\x02")
    twin = central[last:].replace(b"evidence/aaaa.txt", b"evidence/bbbb.txt")
    entries = struct.unpack("<H", data[end + 10 : end + 12])[0] + 1
    eocd = data[end : end + 8] + struct.pack("<HHII", entries, entries, cd_size + len(twin), cd_offset)
    bundle = write(sandbox / "b.zip", data[:cd_offset] + central + twin + eocd + data[end + 20 :])
    refused(cli, bundle, "evidence/bbbb.txt", "shares its data")


def test_zip_member_lying_about_its_size(cli, sandbox):
    """Headers claim 50 bytes; the data holds 5000: reading stops and refuses, exit 3."""
    payload = b"A" * 5000
    manifest = manifest_for({**FILES, "evidence/liar.txt": payload}).replace("size: 5000", "size: 50")
    data = zip_bytes([("manifest.yaml", manifest.encode()), *FILES.items(), ("evidence/liar.txt", payload)])
    true_size = struct.pack("<I", 5000)
    assert data.count(true_size) == 2  # local header and central directory
    bundle = write(sandbox / "b.zip", data.replace(true_size, struct.pack("<I", 50)))
    refused(cli, bundle, "evidence/liar.txt", "corrupt")


def test_nested_archive(cli, sandbox):
    inner = zip_bytes([("x.txt", b"x")])
    files = {**FILES, "evidence/inner.json": inner}
    bundle = write(sandbox / "b.zip", zip_bytes(valid_members(files)))
    refused(cli, bundle, "evidence/inner.json", "nested archives")
    gz = tar_gz_bytes(valid_members({**FILES, "evidence/inner.txt": zlib.compress(b"x") and
                                     tar_gz_bytes([("y.txt", b"y")])}))
    refused(cli, write(sandbox / "c.tar.gz", gz), "evidence/inner.txt", "nested archives")


def test_nested_archive_in_a_folder_bundle(cli, make_folder):
    """Opaque members of folders are hashed from a reused buffer; the magic check still holds."""
    folder = make_folder({**FILES, "evidence/inner.txt": zip_bytes([("x.txt", b"x")])})
    refused(cli, folder, "evidence/inner.txt", "nested archives")


def test_folder_member_hashed_across_buffer_fills(cli, make_folder, monkeypatch):
    import hashlib

    from auditkit.evidence import folder as folder_module

    monkeypatch.setattr(folder_module, "READ_BUFFER", 4096)  # many reads, the last one short
    data = os.urandom(3 * 4096 + 123)
    bundle = make_folder({**FILES, "evidence/big.txt": data})
    reader = folder_module.FolderReader(bundle, Limits())
    seen: list[int] = []
    try:
        assert reader.digest("evidence/big.txt", seen.append) == (hashlib.sha256(data).hexdigest(), len(data))
    finally:
        reader.close()
    assert seen == [4096, 4096, 4096, 123]
    assert cli("bundle", "verify", bundle).exit_code == 0
    (bundle / "evidence" / "big.txt").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    assert cli("bundle", "verify", bundle).exit_code == 4


# ---- damaged archives ----------------------------------------------------------------------


def test_truncated_zip(cli, sandbox):
    data = zip_bytes(valid_members())
    bundle = write(sandbox / "b.zip", data[: len(data) // 2])
    refused(cli, bundle, "b.zip", "truncated or corrupt zip")


def test_truncated_tar_gz(cli, sandbox):
    data = tar_gz_bytes(valid_members())
    bundle = write(sandbox / "b.tar.gz", data[: len(data) - 30])
    refused(cli, bundle, "b.tar.gz", "truncated or corrupt")


def test_corrupt_zip_member(cli, sandbox):
    payload = b"0123456789" * 300
    files = {**FILES, "evidence/notes.txt": payload}
    data = bytearray(zip_bytes(valid_members(files), zipfile.ZIP_STORED))
    at = data.index(payload)
    data[at + 10] ^= 0xFF
    bundle = write(sandbox / "b.zip", bytes(data))
    refused(cli, bundle, "evidence/notes.txt", "corrupt")


def test_zip_member_with_an_unknown_compression_method(cli, sandbox):
    """Found by the fuzz suite: one flipped byte in a compression method used to be exit 5."""
    data = bytearray(zip_bytes(valid_members(), zipfile.ZIP_DEFLATED))
    central = data.rindex(b"PK\x01\x02")  # the last member's central-directory entry
    data[central + 10 : central + 12] = struct.pack("<H", 77)
    bundle = write(sandbox / "b.zip", bytes(data))
    refused(cli, bundle, "b.zip!", "compression method 77")


def test_not_an_archive(cli, sandbox):
    refused(cli, write(sandbox / "b.rar", b"Rar!\x1a\x07\x00junk"), "b.rar", "not a bundle")


# ---- parsers through the bundle ------------------------------------------------------------


def test_json_nested_100000_deep(cli, make_folder):
    deep = b"[" * 100_000 + b"]" * 100_000
    folder = make_folder({**FILES, "evidence/deep.json": deep})
    refused(cli, folder, "evidence/deep.json", "nested 100000 levels deep")
    with open_bundle(folder) as bundle:
        loaded = {e.item.path: e for e in load_evidence(bundle)}
    assert loaded["evidence/deep.json"].integrity == "unparseable"
    assert loaded["evidence/datastore-inventory.json"].integrity == "ok"


def test_sparse_2gb_file_refused_before_reading(cli, make_folder, monkeypatch):
    folder = make_folder()
    with open(folder / "evidence" / "huge.txt", "wb") as handle:
        handle.truncate(2 * 1024**3)
    listed = item_yaml("evidence/huge.txt", b"", "huge").replace("size: 0", f"size: {2 * 1024**3}")
    with open(folder / "manifest.yaml", "a", encoding="utf-8") as manifest:
        manifest.write(listed)
    from auditkit.evidence import reader

    def no_read(self, name):
        raise AssertionError(f"{name} was opened")

    monkeypatch.setattr(reader.FolderReader, "open", no_read)
    with pytest.raises(InvalidInputError, match="huge.txt.*per-file limit"):
        verify_bundle(folder)
    monkeypatch.undo()
    refused(cli, folder, "evidence/huge.txt", "per-file limit")


def test_billion_laughs_manifest(cli, sandbox):
    lol = "\n".join(
        [MANIFEST_ALIAS_HEAD]
        + [f"  - &l{i} [*l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}]" for i in range(1, 10)]
    )
    bundle = write(sandbox / "b.zip", zip_bytes([("manifest.yaml", lol.encode())]))
    refused(cli, bundle, "manifest.yaml", "aliases")


MANIFEST_ALIAS_HEAD = "bundle: {id: x}\nitems:\n  - &l0 [lol]"


def test_limits_are_validated():
    with pytest.raises(Exception, match="max_files"):
        Limits(max_files=0)


def test_open_member_is_size_capped(make_folder):
    folder = make_folder()
    with open_bundle(folder) as bundle:
        with bundle.open_member("evidence/egress-flow-log.csv") as stream:
            assert stream.read() == FILES["evidence/egress-flow-log.csv"]
        with pytest.raises(InvalidInputError, match="no such file"):
            bundle.open_member("evidence/nope.csv")
    assert io  # keep import for readers of the fixtures


def test_gzip_bomb_in_a_pax_header(cli, sandbox):
    """tarfile reads pax headers into memory whole: the decompressed stream is bounded first."""
    info = tarfile.TarInfo("evidence/x.txt")
    info.pax_headers = {"comment": "a" * (4 * 1024 * 1024)}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, data in valid_members():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
        archive.addfile(info, io.BytesIO(b""))
    bundle = write(sandbox / "b.tar.gz", buffer.getvalue())
    refused(cli, bundle, "b.tar.gz", "gzip bomb", "--max-size", "1MiB")


def test_tar_gz_member_bomb(cli, sandbox):
    big = bytes(8 * 1024 * 1024)
    bundle = write(sandbox / "b.tar.gz", tar_gz_bytes([*valid_members(), ("evidence/zeros.txt", big)]))
    refused(cli, bundle, "b.tar.gz", "gzip bomb")


def test_zip_member_count_checked_before_parsing(cli, sandbox, monkeypatch):
    extra = [(f"evidence/f{i}.txt", b"x") for i in range(10)]
    bundle = write(sandbox / "b.zip", zip_bytes([*valid_members(), *extra]))

    def no_parse(*args, **kwargs):
        raise AssertionError("the central directory was parsed")

    monkeypatch.setattr(zipfile, "ZipFile", no_parse)
    with pytest.raises(InvalidInputError, match="14 members, over the limit of 5"):
        verify_bundle(bundle, limits=Limits(max_files=5))
