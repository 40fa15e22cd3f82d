"""Streaming ``multipart/form-data`` for the upload page.

The page's form sends a ``token`` field and then a ``bundle`` file. The file is
never spooled by a generic form parser: :func:`read_form_upload` reads small
fields until the file part starts, lets the caller check the token, and then
hands the file's bytes on as an async iterator, so the same size cap and
hashing as the raw API upload apply while it is read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from .problems import BadRequest

MAX_FIELD_BYTES = 4096
MAX_PARTS = 8
FILE_FIELD = "bundle"


@dataclass
class _State:
    fields: dict[str, str] = field(default_factory=dict)
    pending: list[bytes] = field(default_factory=list)
    name: str | None = None
    filename: str | None = None
    value: bytearray = field(default_factory=bytearray)
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[str, bytes] = field(default_factory=dict)
    parts: int = 0
    file_started: bool = False
    file_done: bool = False
    error: str | None = None


class FormUpload:
    """A form being read: ``fields`` so far, then ``file_chunks()`` for the bundle."""

    def __init__(self, content_type: str | None, body: AsyncIterator[bytes]):
        kind, params = parse_options_header(content_type or "")
        boundary = params.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise BadRequest("expected multipart/form-data with a boundary")
        self._body = body
        self._state = _State()
        s = self._state

        def part_begin() -> None:
            s.parts += 1
            if s.parts > MAX_PARTS:
                s.error = f"more than {MAX_PARTS} form fields"
            s.headers, s.name, s.filename = {}, None, None
            s.value = bytearray()

        def header_field(data: bytes, start: int, end: int) -> None:
            s.header_field += data[start:end]

        def header_value(data: bytes, start: int, end: int) -> None:
            s.header_value += data[start:end]

        def header_end() -> None:
            if len(s.header_field) + len(s.header_value) <= MAX_FIELD_BYTES:
                s.headers[bytes(s.header_field).decode("latin-1").lower()] = bytes(s.header_value)
            s.header_field, s.header_value = bytearray(), bytearray()

        def headers_finished() -> None:
            _, options = parse_options_header(s.headers.get("content-disposition", b""))
            s.name = options.get(b"name", b"").decode("utf-8", "replace")
            raw_filename = options.get(b"filename")
            s.filename = raw_filename.decode("utf-8", "replace") if raw_filename else None
            if s.name == FILE_FIELD:
                if s.file_started:
                    s.error = "more than one bundle file"
                s.file_started = True

        def part_data(data: bytes, start: int, end: int) -> None:
            if s.name == FILE_FIELD:
                s.pending.append(bytes(data[start:end]))
            else:
                s.value += data[start:end]
                if len(s.value) > MAX_FIELD_BYTES:
                    s.error = f"form field {s.name!r} is over {MAX_FIELD_BYTES} bytes"

        def part_end() -> None:
            if s.name == FILE_FIELD:
                s.file_done = True
            elif s.name:
                s.fields[s.name] = bytes(s.value).decode("utf-8", "replace")

        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": part_begin,
                "on_header_field": header_field,
                "on_header_value": header_value,
                "on_header_end": header_end,
                "on_headers_finished": headers_finished,
                "on_part_data": part_data,
                "on_part_end": part_end,
            },
        )

    @property
    def fields(self) -> dict[str, str]:
        return dict(self._state.fields)

    @property
    def filename(self) -> str | None:
        return self._state.filename if self._state.file_started else None

    def _write(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except FormParserError as exc:
            raise BadRequest(f"malformed form data: {str(exc)[:200]}") from None
        if self._state.error:
            raise BadRequest(self._state.error)

    async def read_fields(self) -> dict[str, str]:
        """Read until the bundle file starts (or the form ends); return the fields before it."""
        while not self._state.file_started:
            try:
                chunk = await self._body.__anext__()
            except StopAsyncIteration:
                break
            self._write(chunk)
        return self.fields

    async def file_chunks(self) -> AsyncIterator[bytes]:
        """The bundle file's bytes, read from the request as they are consumed."""
        s = self._state
        if not s.file_started:
            raise BadRequest("the form has no bundle file", hint="choose a bundle to upload")
        while True:
            while s.pending:
                yield s.pending.pop(0)
            if s.file_done:
                return
            try:
                chunk = await self._body.__anext__()
            except StopAsyncIteration:
                raise BadRequest("form data ended inside the bundle file") from None
            self._write(chunk)
