"""``python -m bench``: every bar of DESIGN §7, measured beside its baseline in the same run.

Builds its own large inputs under ``bench/out/`` (kept between runs; ``--fresh`` rebuilds),
runs each measurement ``--repeat`` times after one warm-up run, and prints one table:
figure, auditkit's median wall time, the baseline's, their ratio, each side's median CPU
seconds (user + system of the process tree, from ``wait4``: steadier than wall time on a
shared machine) and each side's peak memory (of the whole process tree: see ``run_once``). The load average
before and after is printed with the table. The table is also written as JSON to
``bench/out/results-<UTC time>.json`` so runs can be compared.

    python -m bench                 # everything (takes a few minutes)
    python -m bench --only startup,catalog --repeat 5
    python -m bench --quick         # smaller inputs (128 MiB instead of 1 GiB, 10^5 records)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
PY = sys.executable
BIN = Path(PY).parent


@dataclass
class Row:
    figure: str
    auditkit_s: float
    baseline: str
    baseline_s: float
    auditkit_mb: float
    baseline_mb: float
    bar: str
    note: str = ""
    auditkit_cpu: float = 0.0
    baseline_cpu: float = 0.0

    @property
    def ratio(self) -> float:
        return self.auditkit_s / self.baseline_s if self.baseline_s else float("nan")


def _tree(pid: int) -> list[int]:
    """``pid`` and every process below it (from ``/proc/<pid>/task/*/children``)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    todo.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return found


def _tree_pss(pid: int) -> int:
    """Bytes of memory ``pid``'s process tree uses now: the sum of each process's PSS (shared
    pages divided among the processes sharing them, so a forked worker's copy-on-write view
    of its parent is not counted twice)."""
    total = 0
    for member in _tree(pid):
        try:
            with open(f"/proc/{member}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, IndexError, ValueError):
            continue
    return total


def run_once(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
             tree: bool = False) -> tuple[float, float, float]:
    """Wall seconds, peak memory (MiB) and CPU seconds of one run of ``command`` (children included).

    CPU seconds include descendants that outlive it (see :func:`_subreaper`). Peak memory is
    the largest process's peak RSS (``wait4``); with ``tree``, the larger of that and the
    peak, sampled every 50 ms, of the memory of every process of the tree alive at once
    (PSS, see :func:`_tree_pss`), so that parallel workers count together. Sampling costs a
    little CPU, so only the long multi-process figures use it."""
    import threading

    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], _tree_pss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True) if tree else None
    if sampler:
        sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    stop.set()
    if sampler:
        sampler.join()
    cpu = usage.ru_utime + usage.ru_stime + _reap_orphans()
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"bench: {' '.join(command)} exited {code}:\n{err[-2000:]}")
    return elapsed, max(usage.ru_maxrss * 1024, peak[0]) / (1 << 20), cpu


def _subreaper() -> None:
    """Become the reaper of orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``), so that a
    process outliving its parent (a multiprocessing fork server) is reaped here and its CPU
    time, and that of the workers it reaped, is counted."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)


def _reap_orphans(grace: float = 2.0) -> float:
    """CPU seconds of descendants left behind by the process just waited for, once they exit."""
    cpu, deadline = 0.0, time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            pid, _, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.01)
            continue
        cpu += usage.ru_utime + usage.ru_stime
    return cpu


def pair(figure: str, ours: list[str], baseline_name: str, theirs: list[str], repeat: int, bar: str,
         note: str = "", **kwargs: object) -> Row:
    """Ours and the baseline, alternating run by run so that changes in machine load hit both alike."""
    run_once(ours, **kwargs)  # warm-up
    run_once(theirs, **kwargs)
    a_runs, b_runs = [], []
    for _ in range(repeat):
        a_runs.append(run_once(ours, **kwargs))
        b_runs.append(run_once(theirs, **kwargs))

    def summary(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
        return (statistics.median(t for t, _, _ in runs), max(m for _, m, _ in runs),
                statistics.median(c for _, _, c in runs))

    a, am, ac = summary(a_runs)
    b, bm, bc = summary(b_runs)
    return Row(figure, a, baseline_name, b, am, bm, bar, note, ac, bc)


def auditkit(*args: str) -> list[str]:
    return [str(BIN / "auditkit"), *map(str, args)]


# --- stages ---------------------------------------------------------------------------------

def stage_startup(args: argparse.Namespace) -> list[Row]:
    needed = "import click, yaml, jsonschema, pydantic, cel, rfc8785"
    return [
        pair("start-up: auditkit --help", auditkit("--help"), "python -c pass", [PY, "-c", "pass"],
             max(args.repeat, 10), "<= 3x"),
        pair("start-up: controls validate (shipped)", auditkit("controls", "validate"),
             "python -c 'import click,yaml,jsonschema,pydantic,cel,rfc8785'", [PY, "-c", needed], args.repeat,
             "<= 2x", note="baseline = the imports validation cannot avoid"),
        pair("start-up: python -c 'import click' (reference)", [PY, "-c", "import click"], "python -c pass",
             [PY, "-c", "pass"], max(args.repeat, 10), "-"),
    ]


def stage_catalog(args: argparse.Namespace) -> list[Row]:
    folder = OUT / "catalog-1000"
    if args.fresh or not folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([PY, str(HERE / "gen_catalog.py"), "--controls", "1000", "-o", str(folder)], check=True,
                       stdout=subprocess.DEVNULL)
    files = sorted(str(p) for p in (folder / "controls").glob("*.yaml"))
    schema = ROOT / "src" / "auditkit" / "schemas" / "control-family.schema.json"
    return [pair("catalog: validate 1,000 controls", auditkit("controls", "validate", folder / "controls"),
                 "check-jsonschema (schema only)", [str(BIN / "check-jsonschema"), "--schemafile", str(schema), *files],
                 args.repeat, "< 1x", note="auditkit also checks ids, params, kinds and compiles 3,000 CEL checks")]


def _bundle(name: str, size: str, files: int) -> Path:
    folder = OUT / name
    if not (folder / "manifest.yaml").exists():
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([PY, str(HERE / "gen_bundle.py"), str(folder), "--size", size, "--files", str(files),
                        "--max-file-size", "2GiB"], check=True, stdout=subprocess.DEVNULL)
    for path in folder.rglob("*.txt"):  # page cache warm for every tool alike
        with path.open("rb") as handle:
            while handle.read(8 << 20):
                pass
    return folder


def stage_hashing(args: argparse.Namespace) -> list[Row]:
    size = "128MiB" if args.quick else "1GiB"
    rows = []
    for name, files, bar in (("one-file", 1, "<= 1.11x"), ("many-files", 256, "<= 0.625x")):
        folder = _bundle(f"bundle-{name}-{size}", size, files)
        blobs = sorted(str(p) for p in folder.rglob("*.txt"))
        openssl = ["openssl", "dgst", "-sha256", *blobs]
        caps = ("--max-file-size", "2GiB")
        rows.append(pair(f"bundle verify, {size} in {files} file(s)", auditkit("bundle", "verify", folder, *caps),
                         "openssl dgst -sha256 (one core)", openssl, args.repeat, bar))
        rows.append(pair(f"bundle seal, {size} in {files} file(s)", auditkit("bundle", "seal", folder, *caps),
                         "openssl dgst -sha256 (one core)", openssl, args.repeat, bar))
        rows.append(pair(f"sha256sum, {size} in {files} file(s) (reference)", ["sha256sum", *blobs],
                         "openssl dgst -sha256 (one core)", openssl, args.repeat, "-"))
        rows.append(pair(f"hashlib on 2 threads, {size} in {files} file(s) (floor)",
                         [PY, str(HERE / "hash_floor.py"), *blobs], "openssl dgst -sha256 (one core)", openssl,
                         args.repeat, "-"))
    return rows


def stage_engine(args: argparse.Namespace) -> list[Row]:
    records = 100_000 if args.quick else 1_000_000
    folder = OUT / f"engine-1000-{records}"
    if args.fresh or not (folder / "bundle" / "manifest.yaml").exists():
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([PY, str(HERE / "gen_catalog.py"), "--controls", "1000", "--records", str(records),
                        "-o", str(folder)], check=True, stdout=subprocess.DEVNULL)
    results = folder / "results.json"
    floor = [PY, str(HERE / "floor_engine.py"), str(folder / "bundle")]
    return [pair(f"assess 1,000 controls over {records:,} records", auditkit(
        "assess", folder / "bundle", "--controls", folder / "controls", "--as-of", "2026-10-15", "-o", results),
        "plain Python: parse evidence + one predicate per check", floor, args.repeat, "<= 3 s",
        note="absolute bar; the baseline is the floor, not a competitor", tree=True)]


def stage_report(args: argparse.Namespace) -> list[Row]:
    from bench.report_inputs import prepare

    controls = 30 if args.quick else 300
    work = prepare(OUT / f"report-{controls}", quick=args.quick, controls=controls)
    out = work / "report.pdf"
    env = {**os.environ, "AUDITKIT_KEY_PASSPHRASE": "bench-passphrase"}
    ours = auditkit("report", work / "results.json", "-o", out, "--sign-key", work / "keys" / "signer.p12")
    raw = [PY, "-c", "import sys, weasyprint; weasyprint.HTML(filename=sys.argv[1]).write_pdf(sys.argv[2])",
           str(work / "report.html"), str(work / "raw.pdf")]
    tagged = [PY, "-c", "import sys, weasyprint; weasyprint.HTML(filename=sys.argv[1]).write_pdf(sys.argv[2], "
              "pdf_variant='pdf/a-3b', pdf_tags=True, custom_metadata=True)", str(work / "report.html"),
              str(work / "raw-tagged.pdf")]
    one = [*ours, "--jobs", "1"]
    return [pair(f"report: {controls} controls, render + sign", ours, "raw WeasyPrint on the same HTML", raw,
                 args.repeat, "<= 1x and <= 500 MiB peak", env=env, tree=True),
            pair(f"report: {controls} controls, render + sign, one process (--jobs 1)", one,
                 "raw WeasyPrint, tagged PDF/A-3b as auditkit writes", tagged, args.repeat, "-", env=env,
                 tree=True, note="reference: the same work on one core, against what WeasyPrint itself costs "
                 "for the tagged PDF/A-3b the report must be")]


STAGES: dict[str, Callable[[argparse.Namespace], list[Row]]] = {
    "startup": stage_startup,
    "catalog": stage_catalog,
    "hashing": stage_hashing,
    "engine": stage_engine,
    "report": stage_report,
}


def table(rows: list[Row]) -> str:
    head = ("figure", "auditkit", "baseline", "base", "ratio", "CPU s a/b", "peak MiB a/b", "bar")
    body = [(r.figure, f"{r.auditkit_s:.3f} s", r.baseline, f"{r.baseline_s:.3f} s", f"{r.ratio:.2f}",
             f"{r.auditkit_cpu:.3f}/{r.baseline_cpu:.3f}", f"{r.auditkit_mb:.0f}/{r.baseline_mb:.0f}", r.bar)
            for r in rows]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  * {r.figure}: {r.note}" for r in rows if r.note]
    return "\n".join(lines + ([""] + notes if notes else []))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated stages of: {', '.join(STAGES)}")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--fresh", action="store_true", help="rebuild generated inputs")
    args = parser.parse_args()
    _subreaper()
    OUT.mkdir(exist_ok=True)
    chosen = args.only.split(",") if args.only else list(STAGES)
    rows: list[Row] = []
    load_before = os.getloadavg()
    for name in chosen:
        print(f"bench: {name} …", file=sys.stderr, flush=True)
        rows.extend(STAGES[name](args))
    load_after = os.getloadavg()
    print(table(rows))
    print(f"\nload average (1/5/15 min): before {'/'.join(f'{x:.2f}' for x in load_before)}, "
          f"after {'/'.join(f'{x:.2f}' for x in load_after)}; {os.cpu_count()} CPUs")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    record = {"when": stamp, "cpus": os.cpu_count(), "repeat": args.repeat, "quick": args.quick,
              "load_before": load_before, "load_after": load_after,
              "rows": [{**asdict(r), "ratio": r.ratio} for r in rows]}
    path = OUT / f"results-{stamp}.json"
    path.write_text(json.dumps(record, indent=2))
    print(f"\nwritten: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
