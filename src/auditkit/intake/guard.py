"""Connection limits uvicorn does not have: a header deadline, a per-client cap, eviction.

uvicorn's ``timeout_keep_alive`` only starts after a response, and it is reset
by every byte received, so a connection that sends nothing (or one header byte
every few seconds) stays open for ever; its ``limit_concurrency`` counts such
connections and then answers *every* new request with 503. ASGI middleware
cannot help: it runs only once a request head is complete. So the server uses
:func:`guarded_protocol`, a subclass of uvicorn's own h11 protocol that

* gives every request head ``header_timeout`` seconds to arrive complete, counted
  from the connection's start or the end of the previous response (a silent or
  trickling client is answered 408 and closed);
* keeps at most ``per_client`` connections per client address (more are answered
  503 with ``Retry-After`` and closed at once);
* at ``max_connections``, makes room for a new connection by closing the oldest
  one still waiting for its request head; only when every connection is busy
  with a request is the new one answered 503.

Idle keep-alive connections are still closed after uvicorn's ``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

LOG = logging.getLogger("auditkit.intake")


@dataclass(frozen=True)
class ConnectionLimits:
    """What one server allows its HTTP connections."""

    header_timeout: float = 10.0
    """Seconds a request head may take to arrive, from connect or the previous response."""
    keep_alive_timeout: int = 5
    """Seconds an idle keep-alive connection stays open (uvicorn's ``timeout_keep_alive``)."""
    per_client: int = 32
    """Connections one client address may hold at once; 0 for no cap (e.g. behind a proxy)."""
    max_connections: int = 1000
    """Connections in all; at the cap the oldest one still waiting for a request head goes."""


def _refusal(status: int, reason: str, retry_after: int | None = None) -> bytes:
    body = f'{{"error": {{"status": {status}, "code": "connection-refused", "message": "{reason}"}}}}'
    extra = f"Retry-After: {retry_after}\r\n" if retry_after is not None else ""
    phrase = {408: "Request Timeout", 503: "Service Unavailable"}[status]
    return (
        f"HTTP/1.1 {status} {phrase}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n{body}"
    ).encode()


@dataclass
class _Shared:
    limits: ConnectionLimits
    per_address: Counter[str] = field(default_factory=Counter)
    waiting: dict[Any, None] = field(default_factory=dict)
    """Connections without a complete request head, oldest first (dicts keep order)."""
    total: int = 0
    quiet_until: float = 0.0

    def warn(self, message: str, *args: object) -> None:
        """Log refusals at most once every 10 s, so an attack cannot flood the log."""
        now = time.monotonic()
        if now >= self.quiet_until:
            self.quiet_until = now + 10.0
            LOG.warning(message + " (similar refusals are not logged for 10 s)", *args)


def guarded_protocol(limits: ConnectionLimits) -> type[H11Protocol]:
    """An h11 protocol class for ``uvicorn.Config(http=...)`` enforcing ``limits``."""
    shared = _Shared(limits)

    class GuardedH11Protocol(H11Protocol):
        _address = ""
        _deadline: asyncio.TimerHandle | None = None
        _counted = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._address = self.client[0] if self.client else ""
            cap = limits.per_client
            if cap and shared.per_address[self._address] >= cap:
                shared.warn("refused a connection from %s: %d already open", self._address, cap)
                self._refuse(503, f"more than {cap} connections from this address", 1)
                return
            if shared.total >= limits.max_connections and not self._evict_oldest_waiting():
                shared.warn("refused a connection: %d connections, all busy", shared.total)
                self._refuse(503, "server busy", 1)
                return
            self._counted = True
            shared.total += 1
            shared.per_address[self._address] += 1
            self._await_head()

        def _refuse(self, status: int, reason: str, retry_after: int | None = None) -> None:
            if not self.transport.is_closing():
                self.transport.write(_refusal(status, reason, retry_after))
                self.transport.close()

        @staticmethod
        def _evict_oldest_waiting() -> bool:
            for victim in shared.waiting:
                victim._stop_waiting()
                victim._refuse(503, "closed to make room for another connection", 1)
                return True
            return False

        def _await_head(self) -> None:
            self._stop_waiting()
            shared.waiting[self] = None
            self._deadline = self.loop.call_later(limits.header_timeout, self._head_too_slow)

        def _stop_waiting(self) -> None:
            shared.waiting.pop(self, None)
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _head_too_slow(self) -> None:
            self._deadline = None
            shared.waiting.pop(self, None)
            self._unset_keepalive_if_required()
            self._refuse(408, f"no complete request within {limits.header_timeout:g} s")

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._deadline is not None and self.conn.their_state is not h11.IDLE:
                self._stop_waiting()  # the head is complete (or the request was refused)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                self._await_head()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_waiting()
            if self._counted:
                self._counted = False
                shared.total -= 1
                shared.per_address[self._address] -= 1
                if shared.per_address[self._address] <= 0:
                    del shared.per_address[self._address]
            super().connection_lost(exc)

    return GuardedH11Protocol
