"""Running the intake server: open the store, build the app, hand it to uvicorn."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from .app import create_app
from .guard import ConnectionLimits, guarded_protocol
from .service import IntakeService, IntakeSettings
from .store import open_for_serving


def open_service(root: Path, settings: IntakeSettings | None = None) -> IntakeService:
    """Open ``root`` for serving (lock, clean-up, log check, key) and wrap it in a service."""
    store = open_for_serving(root)
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
) -> None:
    """Serve the store until interrupted, with ``limits`` on its connections."""
    import uvicorn

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    limits = limits or ConnectionLimits()
    service = open_service(root, settings)
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
