"""Time ``auditkit bundle seal``/``verify`` against ``sha256sum`` and ``openssl dgst -sha256``.

Builds two 1 GiB bundles under ``bench/out/`` (unless present): one file of 1 GiB,
and 256 files of 4 MiB. Files are read once first so every tool hashes from the
page cache; the commands run in turn, ``--repeat`` rounds, and each one's best time counts. Prints
MB/s (10^6 bytes per second), the ratio to OpenSSL and each command's peak memory.

    python bench/bench_hashing.py [--size 1GiB] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PYTHON = sys.executable


def auditkit(*args: str) -> list[str]:
    return [PYTHON, "-m", "auditkit", *args]


def ensure(folder: Path, size: str, files: int) -> list[Path]:
    if not (folder / "manifest.yaml").exists():
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([PYTHON, str(HERE / "gen_bundle.py"), str(folder), "--size", size, "--files",
                        str(files), "--max-file-size", "2GiB", "--no-seal"], check=True)
    paths = sorted(p for p in folder.rglob("*.txt"))
    for path in paths:  # warm the page cache
        with path.open("rb") as handle:
            while handle.read(8 << 20):
                pass
    return paths


def run(command: list[str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (MiB) and CPU seconds (user + system) of one run."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])}… failed ({proc.returncode}): {stderr[-500:]}")
    return elapsed, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="1GiB")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    env_note = f"{os.cpu_count()} CPUs, load average {load} at start, Python {sys.version.split()[0]}"
    print(f"# bundle hashing benchmark ({env_note})")
    for label, files in (("one file", 1), ("256 files", 256)):
        folder = OUT / f"hash-{files}"
        paths = ensure(folder, args.size, files)
        total = sum(p.stat().st_size for p in paths)
        names = [str(p) for p in paths]
        limits = ["--max-file-size", "2GiB", "--max-size", "4GiB"]
        commands = {
            "openssl dgst -sha256": ["openssl", "dgst", "-sha256", *names],
            "sha256sum": ["sha256sum", *names],
            "auditkit bundle seal": auditkit("bundle", "seal", str(folder), *limits),
            "auditkit bundle verify": auditkit("bundle", "verify", str(folder), *limits),
        }
        runs: dict[str, list[tuple[float, int, float]]] = {name: [] for name in commands}
        for _ in range(args.repeat):  # round robin, so changes in machine load hit every tool alike
            for name, cmd in commands.items():
                runs[name].append(run(cmd))
        timings = {
            name: (min(r[0] for r in rs), max(r[1] for r in rs), min(r[2] for r in rs))
            for name, rs in runs.items()
        }
        reference = timings["openssl dgst -sha256"][0]
        print(f"\n(load average now {os.getloadavg()[0]:.1f})")
        print(f"## {label}: {total / 1e6:.0f} MB in {len(paths)} file(s)")
        print(f"{'command':<24} {'seconds':>8} {'MB/s':>8} {'vs openssl':>10} {'CPU s':>6} "
              f"{'peak RSS':>9}")
        for name, (seconds, rss, cpu) in timings.items():
            print(f"{name:<24} {seconds:>8.2f} {total / seconds / 1e6:>8.0f} "
                  f"{reference / seconds:>9.2f}x {cpu:>6.2f} {rss:>6} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
