"""Output paths as users give them: files, devices, FIFOs, `>(…)`, symlinks, directories.

No test here can damage the machine's /dev/null: the null device used is a private
copy made with mknod (root), or the real one only when /dev is not writable (then
nothing can replace it); the other character device is a pseudo-terminal, where
no file can be created or renamed.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import tty
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditkit.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "evidence_samples" / "acme-us"


def _cli(*args: object) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("results") / "results.json"
    done = _cli("assess", SAMPLE, "-o", out, "--workers", "1")
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    return out


def _null_device(tmp_path: Path) -> Path:
    copy = tmp_path / "null"
    try:
        os.mknod(copy, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        return copy
    except PermissionError:
        pass
    if os.access("/dev", os.W_OK):
        pytest.skip("cannot make a private null device and /dev is writable: not risking /dev/null")
    return Path("/dev/null")


def test_assess_to_a_null_device_keeps_it_a_device(tmp_path: Path) -> None:
    null = _null_device(tmp_path)
    before = os.lstat(null)
    result = _cli("assess", SAMPLE, "-o", null, "--workers", "1")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    after = os.lstat(null)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert sorted(p.name for p in null.parent.iterdir() if p.name.startswith(".null")) == []


def test_diff_to_a_terminal_device_is_written_through(tmp_path: Path, results: Path) -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    device = Path(os.ttyname(slave))
    received = bytearray()

    def read() -> None:
        while chunk := os.read(master, 65536):
            received.extend(chunk)
            if received.rstrip().endswith(b"}"):
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        result = _cli("diff", results, results, "--format", "json", "-o", device)
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
        reader.join(timeout=30)
        assert json.loads(bytes(received))["old"]["bundle_id"]
        assert stat.S_ISCHR(os.lstat(device).st_mode)
    finally:
        os.close(slave)
        os.close(master)


def test_assess_to_a_fifo_streams_the_results(tmp_path: Path) -> None:
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    result = _cli("assess", SAMPLE, "-o", fifo, "--workers", "1")
    if reader.is_alive() and not received:  # never opened by auditkit: release the reader
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert json.loads(received[0])["bundle"]["id"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["results.fifo"]


def test_process_substitution_as_a_user_types_it(tmp_path: Path) -> None:
    auditkit = Path(sys.executable).with_name("auditkit")
    out = tmp_path / "copied.json"
    script = f'"{auditkit}" assess "{SAMPLE}" --workers 1 -o >(cat > "{out}"); rc=$?; wait $!; exit $rc'
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["bundle"]["id"]


def _refused(result: object, path: Path, words: str) -> None:
    assert result.exit_code == 3, result.output  # type: ignore[attr-defined]
    lines = [line for line in result.output.splitlines() if line.startswith("auditkit: error")]  # type: ignore[attr-defined]
    assert len(lines) == 1 and str(path) in lines[0] and words in lines[0], lines


def test_symlink_is_refused_and_left_alone(tmp_path: Path, results: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    link = tmp_path / "out.json"
    link.symlink_to(target)
    _refused(_cli("diff", results, results, "-o", link), link, "symbolic link")
    assert link.is_symlink() and target.read_text() == "keep me\n"
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "nowhere")
    _refused(_cli("diff", results, results, "-o", dangling), dangling, "symbolic link")
    assert dangling.is_symlink() and not (tmp_path / "nowhere").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling.json", "out.json", "precious.txt"]


def test_directory_and_socket_are_refused(tmp_path: Path, results: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    _refused(_cli("diff", results, results, "-o", folder), folder, "a directory")
    assert list(folder.iterdir()) == []
    sock_path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        _refused(_cli("diff", results, results, "-o", sock_path), sock_path, "a socket")
        assert stat.S_ISSOCK(os.lstat(sock_path).st_mode)


def test_block_device_is_refused(tmp_path: Path, results: Path) -> None:
    block = tmp_path / "blk"
    try:  # major 240: reserved for local use, so no real disk is behind it
        os.mknod(block, stat.S_IFBLK | 0o600, os.makedev(240, 0))
    except PermissionError:
        pytest.skip("making a block device node needs root")
    _refused(_cli("diff", results, results, "-o", block), block, "a block device")
    assert stat.S_ISBLK(os.lstat(block).st_mode)


def test_report_refuses_a_symlink_before_rendering(tmp_path: Path, results: Path) -> None:
    link = tmp_path / "report.pdf"
    link.symlink_to(tmp_path / "elsewhere.pdf")
    result = _cli("report", results, "-o", link)
    _refused(result, link, "symbolic link")
    assert "rendered" not in result.output  # type: ignore[attr-defined]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]


def test_regular_file_is_replaced_atomically(tmp_path: Path, results: Path) -> None:
    out = tmp_path / "diff.json"
    out.write_text("old")
    out.chmod(0o600)
    assert _cli("diff", results, results, "--format", "json", "-o", out).exit_code == 0  # type: ignore[attr-defined]
    assert json.loads(out.read_text())["old"]["bundle_id"] and not out.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["diff.json"]
