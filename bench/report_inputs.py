"""Inputs for the report benchmark: a results file of N controls (300 by default), its HTML and a signing key.

Built once under the given folder: a generated N-control catalog assessed over a
small generated bundle (``gen_catalog.py``), the report's standalone HTML (what raw
WeasyPrint renders as the baseline) and a key pair from ``auditkit keys init``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PY = sys.executable
BIN = Path(PY).parent
HERE = Path(__file__).resolve().parent
PASSPHRASE = "bench-passphrase"


def prepare(folder: Path, *, quick: bool = False, controls: int = 300) -> Path:
    if (folder / "report.html").exists() and (folder / "keys" / "signer.p12").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "AUDITKIT_KEY_PASSPHRASE": PASSPHRASE}
    subprocess.run([PY, str(HERE / "gen_catalog.py"), "--controls", str(30 if quick else controls), "--records", "20000", "-o", str(folder)],
                   check=True, stdout=subprocess.DEVNULL)
    auditkit = str(BIN / "auditkit")
    subprocess.run([auditkit, "assess", str(folder / "bundle"), "--controls", str(folder / "controls"),
                    "--as-of", "2026-10-15", "-o", str(folder / "results.json")], check=True,
                   stderr=subprocess.DEVNULL)
    subprocess.run([auditkit, "report", str(folder / "results.json"), "-o", str(folder / "unsigned.pdf"),
                    "--html", str(folder / "report.html")], check=True, stdout=subprocess.DEVNULL, env=env)
    subprocess.run([auditkit, "keys", "init", "-o", str(folder / "keys"), "--org", "Bench Assurance"], check=True,
                   stdout=subprocess.DEVNULL, env=env)
    return folder
