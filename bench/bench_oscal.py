"""``python -m bench.bench_oscal``: the NIST SP 800-53 moderate baseline through the CLI, timed.

Each step runs as its own ``auditkit`` process under ``/usr/bin/time -v``: wall time,
CPU time (user + system) and peak memory (maximum resident set size). Steps: import
the resolved moderate catalog, ``controls validate`` it, ``assess`` a bundle with
procedure results for 50 controls (the assessment file the tests use), ``report``
with signing, and the three OSCAL exports. The NIST files are read from
``../shared/oscal`` (the project ships no NIST text); outputs go to ``bench/out/oscal``.
Startup: ``auditkit --help`` and ``controls validate`` of the shipped catalog, which
must not import trestle.

    python -m bench.bench_oscal [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "oscal"
SHARED = ROOT.parent / "shared" / "oscal"
MODERATE = SHARED / "NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json"
AUDITKIT = str(Path(sys.executable).parent / "auditkit")


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of ``auditkit ARGS``."""
    done = subprocess.run(["/usr/bin/time", "-v", AUDITKIT, *args], capture_output=True, text=True, env=env,
                          check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"auditkit {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    text = done.stderr

    def field(name: str) -> str:
        found = re.search(rf"{re.escape(name)}: (.+)", text)
        assert found, name
        return found.group(1).strip()

    clock = [float(p) for p in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")]
    wall = clock[-1] + 60 * clock[-2] + (3600 * clock[-3] if len(clock) > 2 else 0)
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    return wall, cpu, int(field("Maximum resident set size (kbytes)")) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.oscal.conftest import BUNDLE, engagement_files

    from auditkit.catalog import load_catalog

    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    env = {**os.environ, "AUDITKIT_KEY_PASSPHRASE": "bench-passphrase"}
    catalog_dir = OUT / "nist-moderate"
    subprocess.run([AUDITKIT, "controls", "import-oscal", str(MODERATE), "-o", str(catalog_dir)], check=True,
                   capture_output=True, env=env)
    profile, assessment = engagement_files(load_catalog([catalog_dir]), OUT)
    subprocess.run([AUDITKIT, "keys", "init", "-o", str(OUT / "keys"), "--org", "Bench"], check=True,
                   capture_output=True, env=env)
    assess = ["assess", str(BUNDLE), "--controls", str(catalog_dir), "--profile", str(profile),
              "--assessment", str(assessment)]
    steps = [
        ("auditkit --help", ["--help"]),
        ("controls validate (shipped catalog)", ["controls", "validate"]),
        ("controls import-oscal (moderate, 287 controls)",
         ["controls", "import-oscal", str(MODERATE), "-o", str(OUT / "again"), "--force"]),
        ("controls validate (moderate)", ["controls", "validate", str(catalog_dir)]),
        ("assess (moderate, 50 controls with results)", [*assess, "-o", str(OUT / "results.json")]),
        ("report + sign (moderate)", ["report", str(OUT / "results.json"), "-o", str(OUT / "report.pdf"),
                                      "--sign-key", str(OUT / "keys" / "signer.p12")]),
        ("assess --format oscal", [*assess, "--format", "oscal", "-o", str(OUT / "ar.json")]),
        ("assess --format oscal-ap", [*assess, "--format", "oscal-ap", "-o", str(OUT / "ap.json")]),
        ("assess --format oscal-poam", [*assess, "--format", "oscal-poam", "-o", str(OUT / "poam.json")]),
    ]
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min), "
          f"{os.cpu_count()} cores; median of {options.repeat}")
    print(f"{'step':<50} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9}")
    for name, args in steps:
        runs = [timed(args, env) for _ in range(options.repeat)]
        wall, cpu, rss = (statistics.median(r[i] for r in runs) for i in range(3))
        print(f"{name:<50} {wall:8.2f} {cpu:8.2f} {rss:9.0f}")
    pages = subprocess.run(["pdfinfo", str(OUT / "report.pdf")], capture_output=True, text=True).stdout
    print("report pages:", re.search(r"Pages:\s+(\d+)", pages).group(1) if "Pages" in pages else "?")


if __name__ == "__main__":
    main()
