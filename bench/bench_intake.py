"""Intake server throughput and latency, against a real ``auditkit serve`` on 127.0.0.1.

Prints:
* upload throughput (MB/s) of one large bundle (default 200 MB), from the first byte sent
  to the signed receipt (streaming, hashing, quarantine verification, storing, logging);
* p50/p99 latency of small uploads sent 20 at a time (several rounds).

    /work/venv/bin/python bench/bench_intake.py [--size-mb 200] [--rounds 5] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx


def manifest(bundle_id: str, path: str, digest: str, size: int) -> bytes:
    return (
        f"bundle:\n  id: {bundle_id}\n  organization: Bench Inc.\n"
        "  period: {start: 2026-07-01, end: 2026-09-30}\n"
        "  submitted_by: {name: Bench, email: bench@example.org}\n"
        "  created: 2026-10-03T14:00:00Z\nitems:\n"
        f"  - path: {path}\n    kind: document\n    sha256: {digest}\n    size: {size}\n"
        "    collected_at: 2026-09-30T23:00:00Z\n"
    ).encode()


def make_bundle(out: Path, bundle_id: str, payload_size: int) -> Path:
    """A valid bundle holding one opaque file of ``payload_size`` incompressible bytes."""
    name = "evidence/scan.pdf"
    digest = hashlib.sha256()
    block = os.urandom(1024 * 1024)
    archive = out / f"{bundle_id}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        info = zipfile.ZipInfo(name, (2026, 10, 3, 14, 0, 0))
        info.external_attr = 0o100644 << 16
        with zf.open(info, "w", force_zip64=payload_size > 2**31) as member:
            left = payload_size
            counter = 0
            while left:
                piece = (block[: min(left, len(block))] if counter == 0
                         else hashlib.sha256(counter.to_bytes(8, "big")).digest() * 32768)
                piece = piece[: min(left, len(piece))]
                member.write(piece)
                digest.update(piece)
                left -= len(piece)
                counter += 1
        info = zipfile.ZipInfo("manifest.yaml", (2026, 10, 3, 14, 0, 0))
        info.external_attr = 0o100644 << 16
        zf.writestr(info, manifest(bundle_id, name, digest.hexdigest(), payload_size))
    return archive


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(store: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "auditkit", "serve", "--store", str(store), "--port", str(port),
         "--max-upload-mb", "1024", "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        time.sleep(0.05)
    process.kill()
    raise SystemExit("server did not start")


def token(store: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "auditkit", "intake", "token", "create", "--store", str(store),
         "--org", "BENCH", "--role", "submitter"],
        check=True, capture_output=True, text=True,
    )
    return out.stdout.strip()


def upload_file(url: str, secret: str, archive: Path) -> tuple[float, dict[str, object]]:
    size = archive.stat().st_size

    def chunks():
        with open(archive, "rb") as handle:
            while chunk := handle.read(1024 * 1024):
                yield chunk

    started = time.perf_counter()
    response = httpx.post(f"{url}/api/v1/bundles", content=chunks(), timeout=600,
                          headers={"Authorization": f"Bearer {secret}",
                                   "Content-Length": str(size)})
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise SystemExit(f"upload failed: {response.status_code} {response.text[:500]}")
    return elapsed, response.json()


async def concurrent_round(url: str, secret: str, archives: list[Path]) -> list[float]:
    async with httpx.AsyncClient(base_url=url, timeout=120,
                                 limits=httpx.Limits(max_connections=len(archives))) as client:
        async def one(archive: Path) -> float:
            body = archive.read_bytes()
            started = time.perf_counter()
            response = await client.post("/api/v1/bundles", content=body,
                                         headers={"Authorization": f"Bearer {secret}"})
            if response.status_code != 201:
                raise SystemExit(f"upload failed: {response.status_code} {response.text[:300]}")
            return time.perf_counter() - started

        return await asyncio.wait_for(asyncio.gather(*(one(a) for a in archives)), timeout=300)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    try:
        store = work / "store"
        secret = token(store)
        port = free_port()
        server = start(store, port)
        url = f"http://127.0.0.1:{port}"
        try:
            big = make_bundle(work, "bench-large", args.size_mb * 1000 * 1000)
            size = big.stat().st_size
            upload_file(url, secret, make_bundle(work, "bench-warmup", 1000))
            elapsed, receipt = upload_file(url, secret, big)
            print(f"large upload: {size / 1e6:.1f} MB in {elapsed:.2f} s = "
                  f"{size / 1e6 / elapsed:.1f} MB/s (to the signed receipt, verdict "
                  f"{receipt['receipt']['verdict']})")  # type: ignore[index]
            big.unlink()

            latencies: list[float] = []
            for round_no in range(args.rounds):
                archives = [make_bundle(work, f"bench-small-{round_no}-{i}", 10_000)
                            for i in range(args.concurrency)]
                latencies += asyncio.run(concurrent_round(url, secret, archives))
            print(f"small uploads ({args.concurrency} concurrent x {args.rounds} rounds, "
                  f"{len(latencies)} uploads of ~10 kB): p50 {percentile(latencies, 50) * 1000:.1f} ms,"
                  f" p99 {percentile(latencies, 99) * 1000:.1f} ms, "
                  f"max {max(latencies) * 1000:.1f} ms, mean {statistics.mean(latencies) * 1000:.1f} ms")
        finally:
            server.terminate()
            server.wait(timeout=30)
        check = subprocess.run([sys.executable, "-m", "auditkit", "intake", "log", "verify",
                                "--store", str(store)], capture_output=True, text=True)
        print(json.dumps({"log_verify_exit": check.returncode, "log": check.stdout.strip()}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
