"""A first run as a new user meets it: one HarfBuzz line with the fix, no library noise unless --debug,
rendering steps on a terminal."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditkit.cli import cli

from ..terminal import on_terminal

ENV = {"AUDITKIT_KEY_PASSPHRASE": "first-run"}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("first-run") / "keys"
    # this signer name makes pyHanko's stamp layout log "Content box width ... too wide"
    made = CliRunner().invoke(cli, ["keys", "init", "-o", str(folder), "--org", "auditkit demo CA (throwaway)"],
                              env=ENV)
    assert made.exit_code == 0, made.output
    return folder


def test_missing_harfbuzz_subset_is_said_once_with_the_fix(results_file: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import weasyprint.pdf.fonts

    monkeypatch.setattr(weasyprint.pdf.fonts, "harfbuzz_subset", None)  # as on a machine without the library
    result = CliRunner().invoke(cli, ["report", str(results_file), "-o", str(tmp_path / "r.pdf")])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "HarfBuzz" in line]
    assert lines == ["auditkit: warning: fonts were subset with fontTools, which is 2-5x slower: install "
                     "HarfBuzz-Subset 4.1 or later (Debian/Ubuntu: apt-get install libharfbuzz-subset0) and "
                     "WeasyPrint uses it"]
    debug = CliRunner().invoke(cli, ["--debug", "report", str(results_file), "-o", str(tmp_path / "d.pdf")])
    assert debug.exit_code == 0
    assert debug.output.count("auditkit: warning: weasyprint: Using fontTools instead of HarfBuzz-Subset") >= 2


def test_pyhanko_layout_noise_only_with_debug(results_file: Path, keys: Path, tmp_path: Path) -> None:
    exe = shutil.which("auditkit", path=str(Path(sys.executable).parent))
    assert exe
    args = [exe, "report", str(results_file), "-o", str(tmp_path / "s.pdf"), "--sign-key", str(keys / "signer.p12")]
    env = {**os.environ, **ENV}
    quiet = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert quiet.returncode == 0, quiet.stderr
    assert "too wide" not in quiet.stderr and "post_margin" not in quiet.stderr
    assert "signed PAdES B-B" in quiet.stderr
    loud = subprocess.run([exe, "--debug", *args[1:]], capture_output=True, text=True, env=env, timeout=300)
    assert loud.returncode == 0
    assert "pyhanko" in loud.stderr and "too wide" in loud.stderr


def test_rendering_steps_on_a_terminal(results_file: Path, tmp_path: Path) -> None:
    exe = shutil.which("auditkit", path=str(Path(sys.executable).parent))
    assert exe
    code, shown, _ = on_terminal(["report", str(results_file), "-o", str(tmp_path / "p.pdf")], stream="stderr")
    assert code == 0
    assert "\rauditkit: rendering: laying out pages: part 1 of " in shown
    assert "auditkit: rendering: joining " in shown
    piped = subprocess.run([exe, "report", str(results_file), "-o", str(tmp_path / "q.pdf")],
                           capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0 and "rendering:" not in piped.stderr and "\r" not in piped.stderr
