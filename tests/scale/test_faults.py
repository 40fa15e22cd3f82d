"""Faults in a scaled deployment: a server killed mid-upload, PostgreSQL restarting under load."""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from auditkit.intake.pgindex import PostgresIndex
from auditkit.intake.s3store import S3ObjectStore

from ..intake.support import bearer, bundle_files, good_zip, start_server, write_zip
from .servers import S3, Postgres
from .support import deployment, invoke, log_events


def postgres_down(postgres: Postgres) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", postgres.port), 1).close()
        return False
    except OSError:
        return True


def _index_uploads(index: str) -> list:
    opened = PostgresIndex(index)
    try:
        return opened.list_uploads(["ACME", "GLOBEX"], 1000)
    finally:
        opened.close()


def test_killing_one_of_two_servers_mid_upload_leaves_nothing_partial(tmp_path: Path, postgres: Postgres,
                                                                      s3_env: S3):
    dep = deployment(tmp_path, postgres, s3_env)
    one, two = dep.start()
    big = write_zip(tmp_path / "big.zip", bundle_files("acme-big", records=60_000)).read_bytes()
    sent = threading.Event()
    outcome: dict[str, object] = {}

    def slow_body():
        for start in range(0, len(big), 64 * 1024):
            yield big[start:start + 64 * 1024]
            if start >= len(big) // 2:
                sent.set()
                time.sleep(0.05)

    def upload():
        try:
            outcome["status"] = httpx.post(f"{one.url}/api/v1/bundles", content=slow_body(),
                                           headers=bearer(dep.acme), timeout=60).status_code
        except httpx.HTTPError as exc:
            outcome["error"] = type(exc).__name__

    try:
        worker = threading.Thread(target=upload)
        worker.start()
        assert sent.wait(30), "the upload never got half way"
        one.process.send_signal(signal.SIGKILL)
        one.process.wait(timeout=10)
        worker.join(timeout=60)
        assert "error" in outcome, outcome  # the client saw the connection drop, not a receipt
        # The other server goes on serving; the half-sent bundle is nowhere.
        ok = httpx.post(f"{two.url}/api/v1/bundles", content=good_zip(tmp_path, "acme-after").read_bytes(),
                        headers=bearer(dep.acme), timeout=60)
        assert ok.status_code == 201
        listed = httpx.get(f"{two.url}/api/v1/bundles", headers=bearer(dep.auditor), timeout=10).json()
        assert [b["bundle_id"] for b in listed["bundles"]] == ["acme-after"]
        assert set(S3ObjectStore(dep.objects).list()) == {ok.json()["receipt"]["archive_sha256"]}
        # The killed server's folder is cleaned at its next start; it serves again.
        dep.servers[0] = start_server(dep.folders[0], extra=("--index", dep.index, "--objects", dep.objects))
        assert not any((dep.folders[0] / "incoming").iterdir())
        again = httpx.post(f"{dep.servers[0].url}/api/v1/bundles", content=big,
                           headers=bearer(dep.acme), timeout=60)
        assert again.status_code == 201
    finally:
        dep.stop()
    verified = invoke("intake", "log", "verify", "--store", str(tmp_path / "check"), "--index", dep.index)
    assert verified.exit_code == 0, verified.output
    events = [e["event"] for e in log_events(dep.index)]
    assert events.count("accepted") == 2


def test_postgresql_restart_during_uploads_gives_503_then_nothing_is_lost(tmp_path: Path, postgres: Postgres,
                                                                         s3_env: S3):
    dep = deployment(tmp_path, postgres, s3_env)
    one, two = dep.start()
    archives = [good_zip(tmp_path, f"acme-r{i}").read_bytes() for i in range(24)]
    statuses: list[int] = []
    lock = threading.Lock()
    try:
        # PostgreSQL down: a clear 503 (retry later), not a 500 and not a hang; `submit`
        # exits 6, and with --retry it goes through once the database is back.
        postgres.stop("fast")
        try:
            down = httpx.post(f"{one.url}/api/v1/bundles", content=archives[0], headers=bearer(dep.acme),
                              timeout=60)
            assert down.status_code == 503, down.text
            assert "PostgreSQL unavailable" in down.json()["error"]["message"] or \
                "cannot connect" in down.json()["error"]["message"] or \
                "no database connection" in down.json()["error"]["message"]
            first = tmp_path / "first.zip"
            first.write_bytes(archives[0])
            refused = invoke("submit", str(first), "--server", two.url, env={"AUDITKIT_TOKEN": dep.acme})
            assert refused.exit_code == 6 and "(503)" in refused.output
            back = threading.Timer(9.0, postgres.start)  # after the first attempt has waited out the pool (5 s)
            back.start()
            retried = invoke("submit", str(first), "--server", two.url, "--retry", "8",
                             env={"AUDITKIT_TOKEN": dep.acme})
            back.join()
            assert retried.exit_code == 0, retried.output
            assert "retrying in 1 s (1 of 8)" in retried.output
        finally:
            if postgres_down(postgres):
                postgres.start()

        def upload(i: int) -> dict:
            server = (one, two)[i % 2]
            for _attempt in range(60):  # the client's retry loop, bounded
                try:
                    answer = httpx.post(f"{server.url}/api/v1/bundles", content=archives[i],
                                        headers=bearer(dep.acme), timeout=60)
                except httpx.TransportError:
                    time.sleep(0.5)
                    continue
                with lock:
                    statuses.append(answer.status_code)
                if answer.status_code in (200, 201):
                    return answer.json()["receipt"]
                assert answer.status_code == 503, answer.text
                time.sleep(0.5)
            raise AssertionError(f"upload {i} never went through")

        def restart() -> None:
            while len(statuses) < 4:
                time.sleep(0.02)
            postgres.stop("fast")
            time.sleep(1.0)
            postgres.start()

        with ThreadPoolExecutor(max_workers=9) as pool:
            restarting = pool.submit(restart)
            receipts = list(pool.map(upload, range(len(archives))))
            restarting.result()
        stored = {u.upload_id: u for u in _index_uploads(dep.index)}
        accepted = {r["upload_id"] for r in receipts}
        assert len({r["bundle_root_hash"] for r in receipts}) == len(archives)
        assert accepted <= set(stored), "a receipt was given for an upload the index lost"
        assert {u.bundle_id for u in stored.values() if u.verdict == "accepted"} == \
            {f"acme-r{i}" for i in range(len(archives))}
        assert set(S3ObjectStore(dep.objects).list()) >= {r["archive_sha256"] for r in receipts}
    finally:
        dep.stop()
    verified = invoke("intake", "log", "verify", "--store", str(tmp_path / "check"), "--index", dep.index)
    assert verified.exit_code == 0, verified.output
