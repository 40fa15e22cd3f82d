"""Two real servers on one PostgreSQL index and one S3 bucket: one accepted upload per bundle, one log."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest

from auditkit.intake.pgindex import PostgresIndex, migrations
from auditkit.intake.s3store import S3ObjectStore

from ..intake.support import bearer, good_zip
from .servers import S3, Postgres
from .support import deployment, invoke


def test_migrations_are_versioned_and_applied_once(postgres: Postgres):
    url = postgres.new_database()
    first = PostgresIndex(url)
    try:
        assert first.schema_version() == max(v for v, _, _ in migrations())
        assert first.migrate() == []  # nothing left to apply
    finally:
        first.close()
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert [name for _, name in rows] == [name for _, name, _ in migrations()]


def test_s3_store_never_overwrites(s3_env: S3, tmp_path: Path):
    store = S3ObjectStore(s3_env.new_bucket())
    data = b"archive bytes"
    digest = hashlib.sha256(data).hexdigest()
    source = tmp_path / "a"
    source.write_bytes(data)
    assert store.put(digest, source) is True and not source.exists()
    other = tmp_path / "b"
    other.write_bytes(b"something else entirely")
    assert store.put(digest, other) is False  # If-None-Match: * refused the overwrite
    assert store.get(digest).read() == data
    assert list(store.list()) == [digest] and store.exists(digest)
    wrong = tmp_path / "c"
    wrong.write_bytes(b"not what the name says")
    with pytest.raises(Exception, match="BadDigest|checksum|XAmzContentSHA256Mismatch"):
        store.put("0" * 64, wrong)  # the service checks x-amz-checksum-sha256
    assert not store.exists("0" * 64)
    with pytest.raises(KeyError):
        store.get("1" * 64)


def test_two_servers_accept_each_bundle_once_and_write_one_log(tmp_path: Path, postgres: Postgres,
                                                               s3_env: S3):
    dep = deployment(tmp_path, postgres, s3_env)
    one, two = dep.start()
    try:
        same = good_zip(tmp_path, "acme-shared").read_bytes()
        others = [good_zip(tmp_path, f"acme-{i}").read_bytes() for i in range(6)]

        def post(args: tuple[str, bytes]) -> tuple[int, dict]:
            url, body = args
            answer = httpx.post(f"{url}/api/v1/bundles", content=body, headers=bearer(dep.acme),
                                timeout=60)
            return answer.status_code, answer.json()

        work = [(server.url, same) for server in (one, two) for _ in range(4)]
        work += [((one, two)[i % 2].url, body) for i, body in enumerate(others)]
        with ThreadPoolExecutor(max_workers=14) as pool:
            answers = list(pool.map(post, work))
        shared = answers[:8]
        assert sorted(status for status, _ in shared) == [200] * 7 + [201]
        assert len({a["receipt"]["upload_id"] for _, a in shared}) == 1  # every answer: the one receipt
        assert [status for status, _ in answers[8:]] == [201] * 6

        listed = httpx.get(f"{two.url}/api/v1/bundles", headers=bearer(dep.auditor), timeout=10).json()
        assert len(listed["bundles"]) == 7
        root = shared[0][1]["receipt"]["bundle_root_hash"]
        got = httpx.get(f"{two.url}/api/v1/bundles/{root}/archive", headers=bearer(dep.auditor),
                        timeout=10)
        assert got.status_code == 200 and got.content == same
        other = httpx.get(f"{one.url}/api/v1/bundles/{root}", headers=bearer(dep.globex), timeout=10)
        assert other.status_code == 404
    finally:
        dep.stop()

    verified = invoke("intake", "log", "verify", "--store", str(tmp_path / "check"), "--index", dep.index)
    assert verified.exit_code == 0, verified.output
    with psycopg.connect(dep.index) as conn:
        events = [json.loads(line)["event"] for (line,) in
                  conn.execute("SELECT line FROM intake_log ORDER BY seq").fetchall()]
    assert events.count("accepted") == 7 and events.count("duplicate") == 7
    assert events.count("server-start") == 2
    # An edited entry breaks the chain and `log verify` names it (exit 4).
    with psycopg.connect(dep.index) as conn:
        conn.execute("UPDATE intake_log SET line = replace(line, 'ACME', 'ACNE') WHERE seq = 3")
    broken = invoke("intake", "log", "verify", "--store", str(tmp_path / "check"), "--index", dep.index)
    assert broken.exit_code == 4
    assert "intake_log:4: does not chain to line 3" in broken.output
