"""Intake server throughput and latency, against real ``auditkit serve`` processes on 127.0.0.1.

Prints, for the embedded store (SQLite + folder, in-process assessments):
* upload throughput (MB/s) of one large bundle (default 200 MB), from the first byte sent
  to the signed receipt (streaming, hashing, quarantine verification, storing, logging);
* uploads/s and p50/p99 latency of small uploads sent 20 at a time (several rounds);
* assessments/minute with 2 assessment threads in the server (``serve --assess-key``);

and, in the same run, with ``--index``/``--objects``/``--broker``, the same for the scaled
store: 2 servers on one PostgreSQL database and one S3 bucket (clients spread over both),
and 2 ``auditkit worker`` processes on the Redis broker. CPU seconds of the server and
worker processes (with their children) are printed beside wall times, and the load average.

    python bench/bench_intake.py [--size-mb 200] [--rounds 5] [--concurrency 20] [--assessments 6]
        [--index postgresql://… --objects s3://bucket/prefix --broker redis://…]

S3 endpoint and credentials come from the AWS_* variables (the bucket is created if absent).
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


def start(store: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "auditkit", "serve", "--store", str(store), "--port", str(port),
         "--max-upload-mb", "1024", "--log-level", "warning", *extra],
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


def token(store: Path, *extra: str, org: str = "BENCH") -> str:
    out = subprocess.run(
        [sys.executable, "-m", "auditkit", "intake", "token", "create", "--store", str(store),
         "--org", org, "--role", "submitter", *extra],
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


async def concurrent_round(urls: list[str], secret: str, archives: list[Path]) -> list[float]:
    """Upload ``archives`` all at once, spread round-robin over ``urls``; per-upload latencies."""
    clients = [httpx.AsyncClient(base_url=url, timeout=120,
                                 limits=httpx.Limits(max_connections=len(archives))) for url in urls]
    try:
        async def one(i: int, archive: Path) -> float:
            body = archive.read_bytes()
            started = time.perf_counter()
            response = await clients[i % len(clients)].post(
                "/api/v1/bundles", content=body, headers={"Authorization": f"Bearer {secret}"})
            if response.status_code != 201:
                raise SystemExit(f"upload failed: {response.status_code} {response.text[-600:]}")
            return time.perf_counter() - started

        return await asyncio.wait_for(asyncio.gather(*(one(i, a) for i, a in enumerate(archives))),
                                      timeout=300)
    finally:
        for client in clients:
            await client.aclose()


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of ``pids`` and their waited-for children, from /proc (0 if gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(fields[i]) for i in (11, 12, 13, 14)) / tick
    return total


def load() -> str:
    return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def assess_bundle(out: Path, bundle_id: str) -> Path:
    """A bundle the shipped data-localization checks can judge (a datastore inventory)."""
    rows = [{"name": f"{bundle_id}-db-{i}", "region": "us-east-1", "operator": "trusted-provider",
             "protected": True} for i in range(50)]
    data = json.dumps(rows, indent=1).encode()
    digest = hashlib.sha256(data).hexdigest()
    text = manifest(bundle_id, "evidence/datastore-inventory.json", digest, len(data)).decode()
    text = text.replace("kind: document", "kind: datastore-inventory") + \
        "    period: {start: 2026-07-01, end: 2026-09-30}\n    source: bench\n"
    archive = out / f"{bundle_id}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("manifest.yaml", text)
        zf.writestr("evidence/datastore-inventory.json", data)
    return archive


def wait_assessments(count_fn, want: int, timeout: float = 1800) -> float:
    started = time.perf_counter()
    while count_fn() < want:
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"only {count_fn()} of {want} assessments after {timeout:.0f} s")
        time.sleep(0.5)
    return time.perf_counter() - started


def upload_phase(label: str, urls: list[str], secret: str, work: Path, rounds: int, concurrency: int,
                 pids: list[int], tag: str) -> None:
    latencies: list[float] = []
    wall = 0.0
    cpu_before = cpu_seconds(pids)
    for round_no in range(rounds):
        archives = [make_bundle(work, f"bench-{tag}-{round_no}-{i}", 10_000) for i in range(concurrency)]
        started = time.perf_counter()
        latencies += asyncio.run(concurrent_round(urls, secret, archives))
        wall += time.perf_counter() - started
    cpu = cpu_seconds(pids) - cpu_before
    print(f"{label}: {concurrency} concurrent clients x {rounds} rounds over {len(urls)} server(s): "
          f"{len(latencies) / wall:.1f} uploads/s, p50 {percentile(latencies, 50) * 1000:.1f} ms, "
          f"p99 {percentile(latencies, 99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms; "
          f"server CPU {cpu:.1f} s for {wall:.1f} s wall ({load()})", flush=True)


def assess_phase(label: str, url: str, secret: str, work: Path, count: int, count_fn, pids: list[int],
                 tag: str) -> None:
    cpu_before = cpu_seconds(pids)
    archives = [assess_bundle(work, f"bench-assess-{tag}-{i}") for i in range(count)]
    started = time.perf_counter()
    for archive in archives:
        answer = httpx.post(f"{url}/api/v1/bundles", content=archive.read_bytes(),
                            headers={"Authorization": f"Bearer {secret}"}, timeout=120)
        if answer.status_code != 201:
            raise SystemExit(f"upload failed: {answer.status_code} {answer.text[:300]}")
    wall = time.perf_counter() - started + wait_assessments(count_fn, count)
    cpu = cpu_seconds(pids) - cpu_before
    print(f"{label}: {count} assessments (assess + 60-page report + sign) in {wall:.1f} s = "
          f"{count / wall * 60:.1f} assessments/min; CPU {cpu:.1f} s ({load()})", flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def embedded(args: argparse.Namespace, work: Path, keys: object) -> None:
    store = work / "store"
    secret = token(store)
    port = free_port()
    server = start(store, port, "--assess-key", str(keys.p12), "--assess-workers", "2")  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    try:
        if args.size_mb:
            big = make_bundle(work, "bench-large", args.size_mb * 1000 * 1000)
            size = big.stat().st_size
            upload_file(url, secret, make_bundle(work, "bench-warmup", 1000))
            elapsed, receipt = upload_file(url, secret, big)
            print(f"embedded: large upload: {size / 1e6:.1f} MB in {elapsed:.2f} s = "
                  f"{size / 1e6 / elapsed:.1f} MB/s (to the signed receipt, verdict "
                  f"{receipt['receipt']['verdict']})", flush=True)  # type: ignore[index]
            big.unlink()
        upload_phase("embedded", [url], secret, work, args.rounds, args.concurrency, [server.pid], "e")
        if args.assessments:
            from auditkit.intake.sqliteindex import SqliteIndex

            index = SqliteIndex(store / "index.sqlite3")
            try:
                assess_phase("embedded, 2 in-process threads", url, secret, work, args.assessments,
                             lambda: len(index.list_assessments()), [server.pid], "e")
            finally:
                index.close()
    finally:
        server.terminate()
        server.wait(timeout=120)
    check = subprocess.run([sys.executable, "-m", "auditkit", "intake", "log", "verify",
                            "--store", str(store)], capture_output=True, text=True)
    print(json.dumps({"embedded_log_verify_exit": check.returncode, "log": check.stdout.strip()}))


def scaled(args: argparse.Namespace, work: Path, keys: object) -> None:
    import secrets as _secrets

    import boto3
    import botocore.exceptions

    from auditkit.intake.pgindex import PostgresIndex
    from auditkit.intake.s3store import parse_s3_url

    bucket, _ = parse_s3_url(args.objects)
    s3 = boto3.client("s3")
    with contextlib.suppress(botocore.exceptions.ClientError):
        s3.create_bucket(Bucket=bucket)
    folders = [work / f"server-{i}" for i in range(2)]
    org = "BENCH-" + _secrets.token_hex(3).upper()
    backends = ("--index", args.index, "--objects", args.objects)
    secret = token(folders[0], "--index", args.index, org=org)
    folders[1].mkdir()
    for name in ("server-key.pem", "server.pub"):
        shutil.copy2(folders[0] / name, folders[1] / name)
    ports = [free_port() for _ in folders]
    servers = [start(folder, port, *backends, "--broker", args.broker) for folder, port in zip(folders, ports, strict=True)]
    env = {**os.environ, "AUDITKIT_KEY_PASSPHRASE": "bench"}
    workers = [subprocess.Popen([sys.executable, "-m", "auditkit", "worker", "--store", str(work / f"worker-{i}"),
                                 *backends, "--broker", args.broker, "--sign-key", str(keys.p12),  # type: ignore[attr-defined]
                                 "--log-level", "warning"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                start_new_session=True) for i in range(2)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    index = PostgresIndex(args.index)
    try:
        upload_phase("scaled (PostgreSQL + S3)", urls, secret, work, args.rounds, args.concurrency,
                     [s.pid for s in servers], "s" + org.lower())
        if args.assessments:
            def mine() -> int:
                return sum(a.organization == org for a in index.list_assessments([org]))

            assess_phase("scaled, 2 Celery workers", urls[0], secret, work, args.assessments, mine,
                         [w.pid for w in workers], "s" + org.lower())
    finally:
        index.close()
        for process in servers + workers:
            process.terminate()
        for process in servers + workers:
            process.wait(timeout=120)
    check = subprocess.run([sys.executable, "-m", "auditkit", "intake", "log", "verify",
                            "--store", str(work / "check"), "--index", args.index], capture_output=True, text=True)
    print(json.dumps({"scaled_log_verify_exit": check.returncode, "log": check.stdout.strip()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200, help="large upload size; 0 to skip")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--assessments", type=int, default=6, help="per store; 0 to skip")
    parser.add_argument("--index", help="postgresql:// URL of the scaled store's database")
    parser.add_argument("--objects", help="s3://bucket/prefix of the scaled store")
    parser.add_argument("--broker", help="redis:// URL of the Celery broker")
    args = parser.parse_args()
    if bool(args.index) != bool(args.objects) or (args.index and not args.broker):
        parser.error("--index, --objects and --broker go together")

    from auditkit.signing.keys import init_keys

    work = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    previous = os.environ.get("AUDITKIT_KEY_PASSPHRASE")
    os.environ["AUDITKIT_KEY_PASSPHRASE"] = "bench"
    try:
        (work / "keys").mkdir()
        keys = init_keys(work / "keys", org="Bench CA", passphrase=b"bench")
        print(f"cores {os.cpu_count()}, {load()}", flush=True)
        embedded(args, work, keys)
        if args.index:
            scaled(args, work, keys)
    finally:
        if previous is None:
            os.environ.pop("AUDITKIT_KEY_PASSPHRASE", None)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
