"""Generate large synthetic evidence bundles and seal them with auditkit's library.

Examples::

    python bench/gen_bundle.py bench/out/big --size 1GiB --files 256
    python bench/gen_bundle.py bench/out/one --size 1GiB --files 1 --max-file-size 2GiB
    python bench/gen_bundle.py bench/out/logs --records 1000000 --kind egress-flow-log --parts 3

``--size``/``--files``: that many opaque ``.txt`` files of pseudo-random bytes (seeded,
reproducible) adding up to ``--size``. ``--records``: CSV log rows of ``--kind``, split
into ``--parts`` monthly files whose manifest items carry the month as their period.
Both can be combined. The folder is then sealed (``seal_bundle``) and its root hash printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

from auditkit.evidence import Limits, parse_size, seal_bundle
from auditkit.evidence.seal import dump_manifest

CHUNK = 4 * 1024 * 1024
PERIOD = (dt.date(2026, 7, 1), dt.date(2026, 9, 30))


def write_blobs(folder: Path, total: int, files: int, rng: random.Random) -> list[dict]:
    items = []
    base, extra = divmod(total, files)
    for index in range(files):
        size = base + (1 if index < extra else 0)
        path = f"evidence/blobs/blob-{index:05d}.txt"
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as out:
            left = size
            while left:
                n = min(CHUNK, left)
                block = bytearray(rng.randbytes(n))
                block[:4] = b"blob" if left == size else block[:4]  # never an archive's magic bytes
                out.write(block)
                left -= n
        items.append({"path": path, "kind": "blob", "collected_at": "2026-09-30T23:00:00Z"})
    return items


def month_slices(parts: int) -> list[tuple[dt.date, dt.date]]:
    slices = []
    start = PERIOD[0]
    for _ in range(parts):
        nxt = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
        slices.append((start, nxt - dt.timedelta(days=1)))
        start = nxt
    return slices


def write_records(folder: Path, kind: str, records: int, parts: int, rng: random.Random) -> list[dict]:
    items = []
    regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1"]
    per_part, extra = divmod(records, parts)
    for index, (start, end) in enumerate(month_slices(parts)):
        rows = per_part + (1 if index < extra else 0)
        path = f"evidence/{kind}-{start:%Y-%m}.csv"
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        span = (end - start).days * 86400
        with target.open("w", encoding="utf-8", newline="") as out:
            out.write("timestamp,src,dst,region,bytes,allowed,gateway\n")
            lines = []
            for row in range(rows):
                moment = dt.datetime.combine(start, dt.time(), dt.UTC) + dt.timedelta(seconds=rng.randrange(span))
                lines.append(
                    f"{moment:%Y-%m-%dT%H:%M:%SZ},10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)},"
                    f"203.0.113.{rng.randrange(256)},{rng.choice(regions)},{rng.randrange(10**7)},"
                    f"{'true' if rng.random() < 0.98 else 'false'},gw-{rng.randrange(8)}\n"
                )
                if len(lines) >= 10_000 or row == rows - 1:
                    out.write("".join(lines))
                    lines.clear()
        items.append({"path": path, "kind": kind, "collected_at": f"{end}T23:59:00Z",
                      "period": {"start": start.isoformat(), "end": end.isoformat()},
                      "source": "synthetic gateway flow log"})
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--size", type=parse_size, default=0, help="total size of opaque files, e.g. 1GiB")
    parser.add_argument("--files", type=int, default=64, help="number of opaque files (default 64)")
    parser.add_argument("--records", type=int, default=0, help="CSV log rows to generate")
    parser.add_argument("--kind", default="egress-flow-log", help="evidence kind of the CSV rows")
    parser.add_argument("--parts", type=int, default=3, help="monthly CSV files (default 3)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--max-file-size", type=parse_size, default=None)
    parser.add_argument("--no-seal", action="store_true", help="write the draft manifest only")
    args = parser.parse_args(argv)
    folder: Path = args.folder
    if folder.exists() and any(folder.iterdir()):
        parser.error(f"{folder} exists and is not empty")
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    items: list[dict] = []
    if args.size:
        items += write_blobs(folder, args.size, args.files, rng)
    if args.records:
        items += write_records(folder, args.kind, args.records, args.parts, rng)
    data = {
        "bundle": {
            "id": f"bench-{args.seed}", "organization": "Bench Corp",
            "period": {"start": PERIOD[0].isoformat(), "end": PERIOD[1].isoformat()},
            "submitted_by": {"name": "Bench", "email": "bench@bench.example"},
            "created": "2026-10-03T14:00:00Z",
        },
        "items": items,
    }
    (folder / "manifest.yaml").write_text(dump_manifest(data), encoding="utf-8")
    generated = time.perf_counter() - started
    print(f"generated {len(items)} files in {generated:.1f} s", file=sys.stderr)
    if not args.no_seal:
        limits = Limits(max_file_size=args.max_file_size) if args.max_file_size else Limits()
        started = time.perf_counter()
        root = seal_bundle(folder, limits=limits)
        print(f"sealed in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        print(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
