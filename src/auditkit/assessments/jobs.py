"""One assessment of one accepted bundle: fetch, assess, report, sign, store, record — once per key.

The key is the SHA-256 of ``root hash / catalog digest / profile digest``: the same
bundle judged by the same controls and profile is one assessment, however often it
is queued, whichever worker runs it, and whether or not an earlier run died.
:func:`run_job` holds the index's deployment-wide lock for the key while it works
(PostgreSQL drops the lock of a killed worker by itself), returns the stored record
if there is one, and otherwise runs :func:`auditkit.pipeline.run_pipeline` on the
archive, stores ``results.json`` and the signed ``report.pdf`` in the object store
beside the bundle (content-addressed), and records the assessment. The intake log
gets ``assessment-started`` and ``assessed`` entries naming the worker.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from ..errors import IntegrityError
from ..intake.models import AssessmentRecord, UploadRecord
from ..intake.store import IntakeStore, utc_now

if TYPE_CHECKING:
    from ..pipeline import Signer

LOG = logging.getLogger("auditkit.assessments")


class AssessmentJob(BaseModel):
    """What a server queues for an accepted upload (JSON on the broker)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    upload_id: str
    organization: str
    archive_sha256: str
    archive_format: str
    bundle_root_hash: str
    bundle_id: str | None = None

    @classmethod
    def of(cls, record: UploadRecord) -> AssessmentJob:
        assert record.bundle_root_hash is not None
        return cls(
            upload_id=record.upload_id,
            organization=record.organization,
            archive_sha256=record.archive_sha256,
            archive_format=record.archive_format,
            bundle_root_hash=record.bundle_root_hash,
            bundle_id=record.bundle_id,
        )


@dataclass(frozen=True)
class Assessor:
    """An auditor's configuration: catalog, profile, signing key and the CAs trusted for
    bundle signatures (loaded once per worker)."""

    signer: Signer
    controls: Path | None = None
    profile: str | None = None
    catalog_digest: str = ""
    profile_id: str = ""
    profile_digest: str = ""
    trust: tuple[Path, ...] = ()

    @classmethod
    def load(cls, signer: Signer, controls: Path | None = None, profile: str | None = None,
             trust: tuple[Path, ...] = ()) -> Assessor:
        """Load and check catalog, profile and key now, so a bad configuration fails at start."""
        from ..catalog import load_catalog, load_profile
        from ..catalog.loader import digest
        from ..signing.keys import load_signer

        load_signer(signer.p12, signer.passphrase)
        catalog = load_catalog([controls] if controls else None)
        loaded = load_profile(profile, catalog)
        profile_digest = digest([loaded.model_dump(mode="json", exclude={"source"})])
        return cls(signer, controls, profile, catalog.digest, loaded.id, profile_digest, tuple(trust))

    def key(self, root_hash: str) -> str:
        text = f"{root_hash}/{self.catalog_digest}/{self.profile_digest}"
        return hashlib.sha256(text.encode()).hexdigest()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _fetch(store: IntakeStore, job: AssessmentJob, folder: Path) -> Path:
    """The job's archive, copied from the object store and checked against its digest."""
    target = folder / f"bundle.{job.archive_format}"
    digest = hashlib.sha256()
    with store.objects.get(job.archive_sha256) as source, open(target, "wb") as out:
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != job.archive_sha256:
        raise IntegrityError(
            f"archive differs from its digest {job.archive_sha256}", where=f"object {job.upload_id}"
        )
    return target


def _store_file(store: IntakeStore, path: Path) -> tuple[str, int]:
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    size = path.stat().st_size
    store.objects.put(digest, path)
    return digest, size


def run_job(store: IntakeStore, job: AssessmentJob, assessor: Assessor) -> tuple[AssessmentRecord, bool]:
    """Run (or find) the assessment of ``job``; returns the record and whether it ran now."""
    from ..pipeline import run_pipeline

    key = assessor.key(job.bundle_root_hash)
    assert store.log is not None
    with store.index.exclusive(f"assess/{key}"):
        existing = store.index.find_assessment(key)
        if existing is not None:
            LOG.info("assessment %s of %s exists; nothing to do", key[:12], job.upload_id)
            return existing, False
        me = worker_name()
        store.log.append("assessment-started", utc_now(), upload_id=job.upload_id,
                         organization=job.organization, assessment_key=key, worker=me)
        with tempfile.TemporaryDirectory(prefix="assess-", dir=store.quarantine) as scratch:
            folder = Path(scratch)
            bundle = _fetch(store, job, folder)
            out = run_pipeline(bundle, folder / "out", assessor.signer, controls=assessor.controls,
                               profile=assessor.profile, trust=assessor.trust)
            results = out.run.results
            results_sha, _ = _store_file(store, out.results_path)
            report_sha, report_size = _store_file(store, out.report_path)
        record = AssessmentRecord(
            assessment_key=key,
            organization=job.organization,
            upload_id=job.upload_id,
            bundle_root_hash=job.bundle_root_hash,
            bundle_id=job.bundle_id,
            catalog_digest=assessor.catalog_digest,
            profile_id=assessor.profile_id,
            profile_digest=assessor.profile_digest,
            assessed_at=utc_now(),
            as_of=results.assessment.as_of,
            period_end=results.bundle.period.end,
            score=results.overall.score,
            rating=results.overall.rating,
            critical_open=sum(f.severity == "critical" for f in results.findings),
            findings=len(results.findings),
            results_sha256=results_sha,
            report_sha256=report_sha,
            report_size=report_size,
            worker=me,
        )
        stored = store.index.record_assessment(record)
        store.log.append("assessed", utc_now(), upload_id=job.upload_id, organization=job.organization,
                         assessment_key=key, report_sha256=stored.report_sha256,
                         results_sha256=stored.results_sha256, rating=stored.rating, worker=me)
        LOG.info("assessed %s (%s): %s", job.upload_id, key[:12], stored.rating)
        return stored, True
