"""Availability of a real server process against idle, slow-header and crowding connections."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from click.testing import CliRunner

from auditkit.cli import cli

from .support import Tenants, bearer, good_zip, start_server, stop_server


def _connect(port: int, source: str) -> socket.socket:
    """A TCP connection to the server from the loopback address ``source`` (127.0.0.0/8)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.settimeout(15)
    sock.connect(("127.0.0.1", port))
    return sock


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by the timeout)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@contextlib.contextmanager
def _hostile(port: int, count: int, addresses: int) -> Iterator[list[socket.socket]]:
    """``count`` connections spread over ``addresses`` source addresses: half silent,
    half stalled in the middle of a request head, none with a token."""
    socks = []
    try:
        for i in range(count):
            sock = _connect(port, f"127.0.0.{2 + i % addresses}")
            if i % 2:
                sock.sendall(b"POST /api/v1/bundles HTTP/1.1\r\nHost: intake\r\nContent-Le")
            socks.append(sock)
        yield socks
    finally:
        for sock in socks:
            sock.close()


def _submit(url: str, archive: Path, token: str):
    return CliRunner().invoke(cli, ["submit", str(archive), "--server", url],
                              env={"AUDITKIT_TOKEN": token})


def test_300_idle_and_slow_header_connections_do_not_stop_an_upload(tenants: Tenants,
                                                                    tmp_path: Path):
    # The header deadline is long here, so every hostile connection is still open (or was
    # evicted to make room) when the real client arrives: that is the case which used to
    # answer 503 to everyone once 256 connections were open.
    server = start_server(tenants.store, extra=("--header-timeout", "60", "--max-connections", "256"))
    try:
        with _hostile(server.port, 300, addresses=20) as socks:
            result = _submit(server.url, good_zip(tmp_path), tenants.acme)
            assert result.exit_code == 0, result.output
            assert "accepted acme-us-2026-q3" in result.output
            listing = httpx.get(f"{server.url}/api/v1/bundles", headers=bearer(tenants.acme),
                                timeout=10)
            assert listing.status_code == 200
            assert [b["verdict"] for b in listing.json()["bundles"]] == ["accepted"]
            # The connections that made room were told why before being closed.
            evicted = 0
            for sock in socks[:60]:
                sock.settimeout(0.5)
                with contextlib.suppress(TimeoutError):
                    data = sock.recv(4096)
                    evicted += data.startswith(b"HTTP/1.1 503")
            assert evicted >= 1
    finally:
        stop_server(server)
    verified = CliRunner().invoke(cli, ["intake", "log", "verify", "--store", str(tenants.store)])
    assert verified.exit_code == 0, verified.output


def test_silent_and_trickling_connections_get_408_and_are_closed(tenants: Tenants):
    server = start_server(tenants.store, extra=("--header-timeout", "1"))
    try:
        silent = _connect(server.port, "127.0.0.2")
        trickle = _connect(server.port, "127.0.0.3")
        started = time.monotonic()
        head = b"GET /healthz HTTP/1.1\r\nHost: intake\r\nX-Padding: " + b"a" * 400
        sent = 0
        trickle.settimeout(0.2)
        answer = b""
        while sent < len(head):  # one byte every 20 ms: the head would take 8 s to complete
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                trickle.sendall(head[sent:sent + 1])
            sent += 1
            with contextlib.suppress(TimeoutError):
                answer = trickle.recv(4096)
                if answer:
                    break
            time.sleep(0.02)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert sent < len(head)
        silent_answer = _answer(silent)
        assert silent_answer.startswith(b"HTTP/1.1 408")
        assert b"no complete request within 1 s" in silent_answer
        assert time.monotonic() - started < 15

        # A kept-alive connection gets the same deadline for its next request head.
        reused = _connect(server.port, "127.0.0.4")
        reused.sendall(b"GET /healthz HTTP/1.1\r\nHost: intake\r\n\r\n")
        first = b""
        while b'"ok"' not in first and (chunk := reused.recv(4096)):
            first += chunk
        assert first.startswith(b"HTTP/1.1 200") and b'"ok"' in first
        reused.sendall(b"GET /healthz HTTP/1.1\r\nHost: in")
        assert _answer(reused).startswith(b"HTTP/1.1 408")

        # The upload page's form carries its token in the body: it too must arrive in time.
        form = _connect(server.port, "127.0.0.5")
        form.sendall(b"POST /upload HTTP/1.1\r\nHost: intake\r\n"
                     b"Content-Type: multipart/form-data; boundary=xyz\r\n"
                     b"Content-Length: 100000\r\n\r\n--xyz\r\nContent-Disposition: form-data; na")
        page = _answer(form)
        assert page.startswith(b"HTTP/1.1 408") and b"did not arrive within 1 s" in page
        for sock in (silent, trickle, reused, form):
            sock.close()
        assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
    finally:
        stop_server(server)


def test_one_address_cannot_hold_more_than_its_share(tenants: Tenants, tmp_path: Path):
    server = start_server(tenants.store, extra=("--max-client-connections", "4"))
    try:
        with _hostile(server.port, 4, addresses=1):
            extra = _connect(server.port, "127.0.0.2")
            refused = _answer(extra)
            extra.close()
            assert refused.startswith(b"HTTP/1.1 503")
            assert b"Retry-After: 1" in refused
            assert b"more than 4 connections from this address" in refused
            # Another address is served as usual.
            result = _submit(server.url, good_zip(tmp_path), tenants.acme)
            assert result.exit_code == 0, result.output
    finally:
        stop_server(server)


def test_head_on_archive_is_not_logged_as_a_download(live, tenants: Tenants, tmp_path: Path):
    archive = good_zip(tmp_path)
    assert _submit(live.url, archive, tenants.acme).exit_code == 0
    listing = httpx.get(f"{live.url}/api/v1/bundles", headers=bearer(tenants.auditor), timeout=10)
    root = listing.json()["bundles"][0]["bundle_root_hash"]
    url = f"{live.url}/api/v1/bundles/{root}/archive"
    log = tenants.store / "intake.log.jsonl"

    def downloads() -> int:
        return sum(json.loads(line)["event"] == "download" for line in log.read_text().splitlines())

    head = httpx.head(url, headers=bearer(tenants.auditor), timeout=10)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(archive.stat().st_size)
    assert head.headers["x-bundle-root-hash"] == root
    assert head.content == b""
    assert downloads() == 0
    assert httpx.head(url, headers=bearer(tenants.globex), timeout=10).status_code == 404

    got = httpx.get(url, headers=bearer(tenants.auditor), timeout=10)
    assert got.status_code == 200 and got.content == archive.read_bytes()
    assert downloads() == 1
