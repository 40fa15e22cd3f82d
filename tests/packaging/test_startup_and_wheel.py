"""Start-up stays light, and an installed wheel (not only a checkout) finds its catalog."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv

import pytest

HEAVY = ("weasyprint", "pyhanko", "cryptography", "cel", "rich", "starlette", "uvicorn", "httpx", "trestle")
PROBE = """
import json, sys
from auditkit.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(m.split('.')[0] for m in sys.modules)}), file=sys.stderr)
"""


@pytest.mark.parametrize(("args", "forbidden"), [
    (["--help"], (*HEAVY, "click", "pydantic", "yaml")),
    (["assess", "--help"], HEAVY),
    (["controls", "validate"], ("weasyprint", "pyhanko", "cryptography", "trestle")),
])
def test_light_commands_do_not_import_pdf_or_crypto(args, forbidden, tmp_path):
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), proc.stderr
    loaded = set(report["modules"])
    assert not loaded & set(forbidden), sorted(loaded & set(forbidden))


def _help(tmp_path, code: str, columns: str) -> str:
    env = {**os.environ, "COLUMNS": columns}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_fast_top_level_help_is_what_click_prints(tmp_path):
    """`auditkit --help` is answered without click; the text must stay the click group's own."""
    fast = _help(tmp_path, "from auditkit.cli import main; main(['--help'])", "100")
    short = _help(tmp_path, "from auditkit.cli import main; main(['-h'])", "100")
    real = _help(tmp_path, "from auditkit.cli.app import cli; cli.main(['--help'], prog_name='auditkit')", "100")
    assert fast == short == real, f"update HELP in src/auditkit/cli/__init__.py to:\n{real}"


def test_narrow_terminal_help_goes_through_click(tmp_path):
    narrow = _help(tmp_path, "from auditkit.cli import main; main(['--help'])", "60")
    real = _help(tmp_path, "from auditkit.cli.app import cli; cli.main(['--help'], prog_name='auditkit')", "60")
    from auditkit.cli import HELP

    assert narrow == real
    assert narrow != HELP  # rewrapped for the narrow terminal


def test_python_dash_m(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "auditkit", "--version"], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert proc.returncode == 0 and "auditkit" in proc.stdout


def test_wheel_installs_and_finds_catalog_outside_the_checkout(root, tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(root)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(dist.glob("auditkit-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # Dependencies come from the test environment; the wheel itself is installed without them.
    site = next(p for p in sys.path if p.endswith("site-packages"))
    env_site = next((env_dir / "lib").glob("python*/site-packages"))
    (env_site / "_deps.pth").write_text(site + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True, timeout=300)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    listed = subprocess.run([str(env_dir / "bin" / "auditkit"), "controls", "list", "--format", "json"],
                            capture_output=True, text=True, cwd=outside, env=env, timeout=120)
    assert listed.returncode == 0, listed.stderr
    controls = json.loads(listed.stdout)["controls"]
    assert {c["family"] for c in controls} == {"DL", "TP", "AR", "BA"}
    located = subprocess.run([str(python), "-c", "import auditkit.resources as r; print(r.data_dir('templates'))"],
                             capture_output=True, text=True, cwd=outside, env=env, timeout=60)
    assert "site-packages/auditkit/_data/templates" in located.stdout
    assert str(root) not in located.stdout
