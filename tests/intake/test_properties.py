"""Property tests: the log chain catches every single-line edit or removal; the form reader is
indifferent to how the body is split into chunks."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditkit.errors import ProblemList
from auditkit.intake.formupload import FormUpload
from auditkit.intake.log import IntakeLog, verify_log
from auditkit.intake.problems import BadRequest
from auditkit.intake.storage import ZERO_HASH

_settings = settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


def _write_log(folder: Path, count: int) -> tuple[Path, tuple[int, str, int]]:
    path = folder / "intake.log.jsonl"
    heads: list[tuple[int, str, int]] = []
    log = IntakeLog(path, (0, ZERO_HASH, 0), heads.append)
    for i in range(count):
        log.append("received", f"2026-10-03T14:00:{i:02d}.000000Z", upload_id=f"up_{i}", size=i)
    log.close()
    return path, heads[-1]


@_settings
@given(count=st.integers(2, 12), data=st.data())
def test_any_single_line_removal_is_detected(count, data):
    with tempfile.TemporaryDirectory() as folder:
        path, anchor = _write_log(Path(folder), count)
        assert verify_log(path, anchor).entries == count
        lines = path.read_bytes().splitlines(keepends=True)
        victim = data.draw(st.integers(0, count - 1))
        path.write_bytes(b"".join(lines[:victim] + lines[victim + 1:]))
        with pytest.raises(ProblemList) as caught:
            verify_log(path, anchor)
        assert caught.value.exit_code == 4
        assert f":{victim + 1}:" in "\n".join(caught.value.lines)


@_settings
@given(count=st.integers(1, 12), data=st.data())
def test_any_single_value_edit_is_detected(count, data):
    with tempfile.TemporaryDirectory() as folder:
        path, anchor = _write_log(Path(folder), count)
        lines = path.read_bytes().splitlines(keepends=True)
        victim = data.draw(st.integers(0, count - 1))
        entry = json.loads(lines[victim])
        field = data.draw(st.sampled_from(["time", "upload_id", "size", "event"]))
        entry[field] = data.draw(st.one_of(st.integers(), st.text(max_size=8))
                                 .filter(lambda v: v != entry[field]))
        import rfc8785

        try:
            lines[victim] = rfc8785.dumps(entry) + b"\n"  # even re-canonicalised
        except ValueError:  # a value RFC 8785 cannot hold (e.g. an integer beyond 2**53)
            lines[victim] = json.dumps(entry, separators=(",", ":")).encode() + b"\n"
        path.write_bytes(b"".join(lines))
        with pytest.raises(ProblemList) as caught:
            verify_log(path, anchor)
        text = "\n".join(caught.value.lines)
        assert f":{victim + 1}:" in text or f":{victim + 2}:" in text


def _multipart(token: str, payload: bytes, boundary: str = "XyZzY0123") -> bytes:
    return (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n{token}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"bundle\"; "
        f"filename=\"b.zip\"\r\nContent-Type: application/zip\r\n\r\n"
    ).encode() + payload + f"\r\n--{boundary}--\r\n".encode()


def _read(body: bytes, cuts: list[int]) -> tuple[dict[str, str], bytes]:
    points = sorted({c % (len(body) + 1) for c in cuts} | {0, len(body)})
    pieces = [body[a:b] for a, b in zip(points, points[1:], strict=False)]

    async def stream():
        for piece in pieces:
            yield piece

    async def go() -> tuple[dict[str, str], bytes]:
        form = FormUpload("multipart/form-data; boundary=XyZzY0123", stream().__aiter__())
        fields = await form.read_fields()
        data = b"".join([chunk async for chunk in form.file_chunks()])
        return fields, data

    return asyncio.run(go())


@_settings
@given(payload=st.binary(max_size=3000), cuts=st.lists(st.integers(0, 10_000), max_size=30),
       token=st.from_regex(r"akt_[A-Za-z0-9_-]{1,40}", fullmatch=True))
def test_form_reader_ignores_chunk_boundaries(payload, cuts, token):
    body = _multipart(token, payload)
    fields, data = _read(body, cuts)
    assert fields == {"token": token}
    assert data == payload


def test_form_reader_refuses_oversized_fields_and_missing_file():
    with pytest.raises(BadRequest, match="over 4096 bytes"):
        _read(_multipart("x" * 5000, b"PK"), [])
    body = b'--XyZzY0123\r\nContent-Disposition: form-data; name="token"\r\n\r\nakt_x\r\n--XyZzY0123--\r\n'

    async def go():
        async def stream():
            yield body

        form = FormUpload("multipart/form-data; boundary=XyZzY0123", stream().__aiter__())
        await form.read_fields()
        return [chunk async for chunk in form.file_chunks()]

    with pytest.raises(BadRequest, match="no bundle file"):
        asyncio.run(go())
    with pytest.raises(BadRequest, match="multipart/form-data"):
        FormUpload("application/json", None)  # type: ignore[arg-type]
