"""Running the intake server: open the store, build the app, hand it to uvicorn."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from .app import create_app
from .guard import ConnectionLimits, guarded_protocol
from .models import UploadRecord
from .service import IntakeService, IntakeSettings
from .store import open_for_serving


def open_service(
    root: Path,
    settings: IntakeSettings | None = None,
    *,
    index: str | None = None,
    objects: str | None = None,
) -> IntakeService:
    """Open ``root`` for serving (lock, clean-up, log check, key) and wrap it in a service.

    ``index`` / ``objects``: a ``postgresql://`` index and an ``s3://`` object store
    shared with other servers, instead of the folder's own.
    """
    store = open_for_serving(root, index=index, objects=objects)
    try:
        return IntakeService(store, settings)
    except BaseException:
        store.close()
        raise


def serve(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 8080,
    settings: IntakeSettings | None = None,
    *,
    log_level: str = "info",
    limits: ConnectionLimits | None = None,
    index: str | None = None,
    objects: str | None = None,
    on_accepted: Callable[[IntakeService], Callable[[UploadRecord], None]] | None = None,
) -> None:
    """Serve the store until interrupted, with ``limits`` on its connections.

    ``on_accepted`` builds, from the opened service, the callback that queues an
    accepted upload's assessment.
    """
    import uvicorn

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    limits = limits or ConnectionLimits()
    service = open_service(root, settings, index=index, objects=objects)
    if on_accepted is not None:
        service.on_accepted = on_accepted(service)
    # This process only serves intake: any scratch file a verifier makes goes inside the
    # quarantine too (emptied at every start), never into the system temp folder.
    tempfile.tempdir = str(service.store.quarantine)
    try:
        config = uvicorn.Config(
            create_app(service),
            host=host,
            port=port,
            log_level=log_level,
            access_log=True,
            http=guarded_protocol(limits),
            timeout_keep_alive=limits.keep_alive_timeout,
            limit_concurrency=None,  # the guard caps connections; idle ones never block others
            server_header=False,
        )
        uvicorn.Server(config).run()
    finally:
        service.close()
