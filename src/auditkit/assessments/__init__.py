"""Assessments of accepted bundles at scale: jobs, queues (Celery on Redis, or in-process), portfolio.

* :func:`~auditkit.assessments.jobs.run_job` — one idempotent assessment of one upload;
* :mod:`auditkit.assessments.queue` — the Celery task and worker, and the in-process queue;
* :func:`~auditkit.assessments.portfolio.portfolio` — the regulator's view across organizations.

See ``docs/scaling.md``.
"""

from __future__ import annotations

from ..lazy import exports

_API = {
    "AssessmentJob": "auditkit.assessments.jobs",
    "Assessor": "auditkit.assessments.jobs",
    "run_job": "auditkit.assessments.jobs",
    "portfolio": "auditkit.assessments.portfolio",
    "PortfolioRow": "auditkit.assessments.portfolio",
}

__all__ = sorted(_API)

__getattr__, __dir__ = exports(__name__, _API)
