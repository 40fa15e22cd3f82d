"""Before and after: the same commands run with an older checkout's code and with this one, alternately.

    git worktree add --detach /tmp/before REV
    python -m bench.compare /tmp/before [CASE …]     # cases: help verify-1 verify-256 assess (default: all)

Each "before" run is ``python -m auditkit …`` with ``PYTHONPATH`` naming the older
checkout's ``src``; each "after" run the same command with this checkout's code.
References (``python -c pass``, ``openssl dgst``, the hashing and engine floors) run once
per round. Prints median and minimum wall and CPU seconds (user + system of the process
tree) and peak memory per side; uses the inputs ``python -m bench`` builds under
``bench/out/`` (run the matching stage once first).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PY = sys.executable


def run(command: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{err[-1000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def cases() -> dict[str, tuple[list[str], list[tuple[str, list[str]]], int]]:
    """name -> (auditkit arguments, references, rounds)."""
    one = sorted(str(p) for p in (OUT / "bundle-one-file-1GiB").rglob("*.txt"))
    many = sorted(str(p) for p in (OUT / "bundle-many-files-1GiB").rglob("*.txt"))
    engine = OUT / "engine-1000-1000000"
    return {
        "help": (["--help"], [("python -c pass", [PY, "-c", "pass"])], 10),
        "verify-1": (["bundle", "verify", str(OUT / "bundle-one-file-1GiB"), "--max-file-size", "2GiB"],
                     [("openssl dgst -sha256", ["openssl", "dgst", "-sha256", *one])], 3),
        "verify-256": (["bundle", "verify", str(OUT / "bundle-many-files-1GiB"), "--max-file-size", "2GiB"],
                       [("openssl dgst -sha256", ["openssl", "dgst", "-sha256", *many]),
                        ("hashlib on 2 threads", [PY, str(HERE / "hash_floor.py"), *many])], 3),
        "assess": (["assess", str(engine / "bundle"), "--controls", str(engine / "controls"), "--as-of",
                    "2026-10-15", "-o", str(OUT / "compare-results.json")],
                   [("plain-Python floor", [PY, str(HERE / "floor_engine.py"), str(engine / "bundle")])], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="an older checkout (its src/ is put on PYTHONPATH)")
    parser.add_argument("cases", nargs="*", help="help, verify-1, verify-256, assess (default: all)")
    args = parser.parse_args()
    table = cases()
    before = {**os.environ, "PYTHONPATH": str(args.before.resolve() / "src")}
    after = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    print(f"load average before: {os.getloadavg()}", flush=True)
    for name in args.cases or list(table):
        arguments, references, rounds = table[name]
        sides = [("before", [PY, "-m", "auditkit", *arguments], before),
                 ("after", [PY, "-m", "auditkit", *arguments], after),
                 *[(label, command, after) for label, command in references]]
        for _, command, env in sides:
            run(command, env)  # warm-up
        runs: dict[str, list[tuple[float, float, float]]] = {label: [] for label, _, _ in sides}
        for _ in range(rounds):
            for label, command, env in sides:
                runs[label].append(run(command, env))
        for label, results in runs.items():
            wall = [r[0] for r in results]
            cpu = [r[1] for r in results]
            print(f"{name:10} {label:22} wall median {statistics.median(wall):8.3f} s  min {min(wall):8.3f} s  "
                  f"CPU median {statistics.median(cpu):7.3f} s  min {min(cpu):7.3f} s  "
                  f"peak {max(r[2] for r in results):6.0f} MiB", flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
