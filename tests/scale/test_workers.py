"""Assessment workers on a real Redis broker: one signed report per key, and a kill -9 mid-task."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from auditkit.assessments.queue import QUEUE, TASK, celery_app
from auditkit.intake.pgindex import PostgresIndex

from ..intake.support import bearer, good_zip
from .servers import S3, Postgres, Redis
from .support import deployment, invoke, log_events, signing, start_worker, wait_for


def _submit(url: str, archive: Path, token: str) -> dict:
    answer = httpx.post(f"{url}/api/v1/bundles", content=archive.read_bytes(),
                        headers=bearer(token), timeout=60)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()["receipt"]


def _assessments(index: str) -> list:
    opened = PostgresIndex(index)
    try:
        return opened.list_assessments()
    finally:
        opened.close()


def test_workers_assess_each_bundle_once_and_the_portfolio_shows_it(
        tmp_path: Path, postgres: Postgres, s3_env: S3, redis_server: Redis):
    broker = redis_server.new_url()
    keys = signing(tmp_path)
    dep = deployment(tmp_path, postgres, s3_env)
    one, two = dep.start("--broker", broker)
    workers = [start_worker(tmp_path / f"worker-{i}", dep, broker, keys) for i in range(2)]
    try:
        first = _submit(one.url, good_zip(tmp_path, "acme-2026-q2"), dep.acme)
        _submit(two.url, good_zip(tmp_path, "globex-2026-q2"), dep.globex)
        wait_for(lambda: len(_assessments(dep.index)) == 2, "two assessments")
        # The same bundle again (a duplicate upload queues nothing) and the same job queued
        # twice by hand: still one assessment for that key.
        _submit(two.url, good_zip(tmp_path, "acme-2026-q2"), dep.acme)
        job = {"upload_id": first["upload_id"], "organization": "ACME",
               "archive_sha256": first["archive_sha256"], "archive_format": "zip",
               "bundle_root_hash": first["bundle_root_hash"], "bundle_id": first["bundle_id"]}
        producer = celery_app(broker)
        for _ in range(2):
            producer.send_task(TASK, args=[json.dumps(job)], queue=QUEUE)
        second = _submit(one.url, good_zip(tmp_path, "acme-2026-q3", records=5), dep.acme)
        wait_for(lambda: len(_assessments(dep.index)) == 3, "the third assessment")
        wait_for(lambda: sum(e["event"] == "assessed" for e in log_events(dep.index)) == 3
                 and len([e for e in log_events(dep.index) if e["event"] == "assessment-started"]) == 3,
                 "three assessed entries")
        # the hand-queued duplicates were consumed without a second report
        wait_for(lambda: sum(w.log.read_text().count("nothing to do") for w in workers) >= 2,
                 "the duplicate tasks to be consumed", timeout=60)
        assert len(_assessments(dep.index)) == 3

        reports = tmp_path / "reports"
        listed = invoke("portfolio", "--store", str(tmp_path / "regulator"), "--index", dep.index,
                        "--objects", dep.objects, "--format", "json", "--reports", str(reports))
        assert listed.exit_code == 0, listed.output
        rows = {row["organization"]: row for row in map(json.loads, listed.stdout.splitlines())}
        assert set(rows) == {"ACME", "GLOBEX"}
        assert rows["ACME"]["assessments"] == 2 and rows["ACME"]["bundle_id"] == "acme-2026-q3"
        assert rows["ACME"]["trend_word"] in ("steady", "up", "down")
        assert rows["GLOBEX"]["trend_word"] == "first"
        verified = invoke("verify", str(reports / "ACME.pdf"), "--trust", str(keys.ca))
        assert verified.exit_code == 0, verified.output

        table = invoke("portfolio", "--index", dep.index)
        assert table.exit_code == 0 and "ACME" in table.stdout and "GLOBEX" in table.stdout

        # A regulator with only a token reads the same portfolio through the server's API.
        fetched = tmp_path / "fetched"
        remote = invoke("portfolio", "--server", two.url, "--format", "json", "--reports", str(fetched),
                        env={"AUDITKIT_TOKEN": dep.auditor})
        assert remote.exit_code == 0, remote.output
        remote_rows = {row["organization"]: row for row in map(json.loads, remote.stdout.splitlines())}
        assert {org: (r["rating"], r["score"], r["trend"]) for org, r in remote_rows.items()} == \
            {org: (r["rating"], r["score"], r["trend"]) for org, r in rows.items()}
        assert (fetched / "ACME.pdf").read_bytes() == (reports / "ACME.pdf").read_bytes()
        refused = invoke("portfolio", "--server", two.url, env={"AUDITKIT_TOKEN": "akt_wrong"})
        assert refused.exit_code == 2 and "(401)" in refused.output

        # The server's portfolio: JSON for the auditor's token, and the signed report itself.
        api = httpx.get(f"{one.url}/api/v1/portfolio", headers=bearer(dep.auditor), timeout=10)
        assert api.status_code == 200
        orgs = {row["organization"]: row for row in api.json()["portfolio"]}
        assert set(orgs) == {"ACME", "GLOBEX"}
        pdf = httpx.get(f"{two.url}{orgs['ACME']['report_url']}", headers=bearer(dep.auditor),
                        timeout=10)
        assert pdf.status_code == 200 and pdf.content == (reports / "ACME.pdf").read_bytes()
        assert pdf.headers["content-type"] == "application/pdf"
        mine = httpx.get(f"{one.url}/api/v1/portfolio", headers=bearer(dep.globex), timeout=10)
        assert [row["organization"] for row in mine.json()["portfolio"]] == ["GLOBEX"]
        hidden = httpx.get(f"{one.url}{orgs['ACME']['report_url']}", headers=bearer(dep.globex),
                           timeout=10)
        assert hidden.status_code == 404
        page = httpx.post(f"{one.url}/portfolio", data={"token": dep.auditor}, timeout=10)
        assert page.status_code == 200 and "ACME" in page.text and "GLOBEX" in page.text
        assert second["bundle_id"] == "acme-2026-q3"
    finally:
        for worker in workers:
            worker.stop()
        dep.stop()
    assert invoke("intake", "log", "verify", "--store", str(tmp_path / "check"),
                  "--index", dep.index).exit_code == 0


def test_a_worker_killed_mid_task_is_replaced_and_one_report_results(
        tmp_path: Path, postgres: Postgres, s3_env: S3, redis_server: Redis):
    broker = redis_server.new_url()
    keys = signing(tmp_path)
    dep = deployment(tmp_path, postgres, s3_env, servers=1)
    (server,) = dep.start("--broker", broker)
    # A short visibility timeout, so the orphaned task is handed out again within seconds.
    workers = {i: start_worker(tmp_path / f"worker-{i}", dep, broker, keys, visibility_timeout=8)
               for i in range(2)}
    try:
        _submit(server.url, good_zip(tmp_path, "acme-kill"), dep.acme)
        started = wait_for(lambda: [e for e in log_events(dep.index) if e["event"] == "assessment-started"],
                           "a worker to start the assessment", every=0.05)
        victim_pid = int(started[0]["worker"].rsplit(":", 1)[1])
        victim = next(i for i, w in workers.items() if w.process.pid == victim_pid)
        workers[victim].kill9()
        early = [e["event"] for e in log_events(dep.index) if e["event"] == "assessed"]
        assert not early, "the first worker finished before it could be killed: nothing was tested"
        wait_for(lambda: len(_assessments(dep.index)) == 1, "the re-run to finish", timeout=240)
        events = log_events(dep.index)
        starts = [e["worker"] for e in events if e["event"] == "assessment-started"]
        done = [e for e in events if e["event"] == "assessed"]
        trail = [(e["event"], e.get("worker")) for e in events]
        assert len(starts) == 2 and starts[0] != starts[1], trail
        assert len(done) == 1 and done[0]["worker"] == starts[1], trail
        (record,) = _assessments(dep.index)
        assert record.worker == starts[1]
        # In the bucket: the archive, one results.json and one signed report; nothing else.
        from auditkit.intake.s3store import S3ObjectStore

        objects = set(S3ObjectStore(dep.objects).list())
        assert objects == {record.results_sha256, record.report_sha256,
                           *(r["archive_sha256"] for r in [e for e in events if e["event"] == "accepted"])}
    finally:
        for worker in workers.values():
            worker.stop()
        dep.stop()
    assert invoke("intake", "log", "verify", "--store", str(tmp_path / "check"),
                  "--index", dep.index).exit_code == 0


def test_worker_and_serve_refuse_bad_configurations(tmp_path: Path):
    keys = signing(tmp_path)
    no_key = invoke("worker", "--store", str(tmp_path / "w"), "--index", "postgresql://x@127.0.0.1:1/x",
                    "--objects", "s3://b/p", "--broker", "redis://127.0.0.1:1/0")
    assert no_key.exit_code == 2 and "needs --sign-key" in no_key.output
    both = invoke("serve", "--store", str(tmp_path / "s"), "--broker", "redis://127.0.0.1:1/0",
                  "--assess-key", str(keys.p12))
    assert both.exit_code == 2 and "--assess-key is for the embedded server" in both.output
    bad_index = invoke("serve", "--store", str(tmp_path / "s"), "--index", "mysql://x")
    assert bad_index.exit_code == 2 and "--index must be a postgresql:// URL" in bad_index.output
    unreachable = invoke("intake", "token", "list", "--store", str(tmp_path / "s"),
                         "--index", "postgresql://auditkit@127.0.0.1:1/none")
    assert unreachable.exit_code == 6 and "cannot connect to PostgreSQL" in unreachable.output
    nowhere = invoke("portfolio")
    assert nowhere.exit_code == 2 and "say where the assessments are" in nowhere.output
    both = invoke("portfolio", "--server", "http://127.0.0.1:1", "--index", "postgresql://x@h/db")
    assert both.exit_code == 2 and "say where the assessments are" in both.output
