"""Queues for assessments: Celery on Redis for a deployment, a thread pool for the embedded server.

Celery settings that make the guarantees of :func:`~auditkit.assessments.jobs.run_job` hold:

* ``acks_late`` + ``reject_on_worker_lost``: a message is acknowledged only once
  its task has finished, so a worker killed mid-task (even ``kill -9``) leaves it
  unacknowledged, and Redis hands it to another worker after the visibility
  timeout (``--visibility-timeout``, default 1 h; it must exceed the longest
  assessment or a slow task is handed out twice — harmless, since the second run
  waits on the key's lock and then finds the record);
* ``worker_prefetch_multiplier = 1``: a worker holds one message at a time;
* a database or object store that is down makes the task retry (every 5 s, up to
  an hour) instead of failing; any other error is logged (and in the intake log as
  ``assessment-failed``) and the message acknowledged.

A worker runs tasks one at a time (Celery's ``solo`` pool): the assessment itself
already uses worker processes for CEL and for rendering; run K workers for K at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import AuditkitError
from ..intake.models import UploadRecord
from ..intake.problems import Unavailable
from ..intake.store import utc_now
from .jobs import AssessmentJob, Assessor, run_job, worker_name

if TYPE_CHECKING:
    from celery import Celery

    from ..intake.service import IntakeService
    from ..intake.store import IntakeStore

LOG = logging.getLogger("auditkit.assessments")
TASK = "auditkit.assess"
QUEUE = "auditkit-assessments"


def celery_app(broker: str, *, visibility_timeout: int = 3600) -> Celery:
    """The Celery application (producer and worker side agree on these settings)."""
    from celery import Celery

    app = Celery("auditkit", broker=broker, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=QUEUE,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            "unacked_restore_interval": max(1, min(10, visibility_timeout // 4)),
            "unacked_restore_throttle": 1,
        },
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    return app


def celery_enqueuer(broker: str) -> Callable[[IntakeService], Callable[[UploadRecord], None]]:
    """For ``serve --broker``: a callback that queues each accepted upload's assessment."""
    app = celery_app(broker)

    def bind(service: IntakeService) -> Callable[[UploadRecord], None]:
        def enqueue(record: UploadRecord) -> None:
            job = AssessmentJob.of(record)
            app.send_task(TASK, args=[job.model_dump_json()], queue=QUEUE)

        return enqueue

    return bind


@dataclass
class _Worker:
    store: IntakeStore
    assessor: Assessor


_CONTEXT: _Worker | None = None


def _failed(store: IntakeStore, job: AssessmentJob, exc: BaseException) -> None:
    assert store.log is not None
    store.log.append("assessment-failed", utc_now(), upload_id=job.upload_id,
                     organization=job.organization, worker=worker_name(),
                     reason=str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__)


def _execute(store: IntakeStore, assessor: Assessor, job: AssessmentJob) -> None:
    try:
        run_job(store, job, assessor)
    except Unavailable:
        raise
    except AuditkitError as exc:
        LOG.error("assessment of %s failed: %s", job.upload_id, exc)
        _failed(store, job, exc)
    except Exception as exc:
        LOG.exception("assessment of %s crashed", job.upload_id)
        _failed(store, job, exc)


def register_task(app: Celery) -> None:
    """Register the assessment task on ``app`` (worker side)."""

    @app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=720)  # type: ignore[untyped-decorator]
    def assess(self: Any, job_json: str) -> None:
        assert _CONTEXT is not None, "start workers with run_worker()"
        job = AssessmentJob.model_validate_json(job_json)
        try:
            _execute(_CONTEXT.store, _CONTEXT.assessor, job)
        except Unavailable as exc:
            LOG.warning("assessment of %s waits: %s", job.upload_id, exc)
            raise self.retry(countdown=5) from exc


def run_worker(store: IntakeStore, assessor: Assessor, broker: str, *, visibility_timeout: int,
               loglevel: str = "INFO") -> None:
    """Consume assessment tasks until stopped (SIGTERM finishes the current task first)."""
    global _CONTEXT
    _CONTEXT = _Worker(store, assessor)
    app = celery_app(broker, visibility_timeout=visibility_timeout)
    register_task(app)
    worker = app.Worker(pool="solo", concurrency=1, loglevel=loglevel, queues=[QUEUE],
                        hostname=f"auditkit@{worker_name()}", without_gossip=True,
                        without_mingle=True, without_heartbeat=True)
    worker.start()


def in_process(assessor: Assessor, workers: int = 1) -> Callable[[IntakeService], Callable[[UploadRecord], None]]:
    """For the embedded server: assess accepted uploads in background threads of the server."""

    def bind(service: IntakeService) -> Callable[[UploadRecord], None]:
        pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="assess")
        service.closers.append(pool.shutdown)  # queued assessments finish before the store closes

        def work(job: AssessmentJob) -> None:
            try:
                _execute(service.store, assessor, job)
            except Unavailable as exc:  # no broker to retry it: the upload stays unassessed, logged
                LOG.error("assessment of %s not run: %s", job.upload_id, exc)

        def enqueue(record: UploadRecord) -> None:
            pool.submit(work, AssessmentJob.of(record))

        return enqueue

    return bind
