"""Finding bytes in a PDF file for tamper tests: where a page's content stream data lies."""

from __future__ import annotations

import io
import re


def content_byte(data: bytes, page: int = 0, into: int = 20) -> int:
    """The offset of a byte ``into`` bytes inside the data of ``page``'s longest content stream.

    Flipping it keeps the file's structure intact (no object stream, no dictionary is hit)
    and breaks only what a signature over the page covers."""
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        contents = pdf.pages[page].obj.Contents
        streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
        stream = max(streams, key=lambda s: int(s.Length))
        assert int(stream.Length) > into
        number, generation = stream.objgen
    header = re.search(rb"(?<![0-9])%d %d obj" % (number, generation), data)
    assert header, f"object {number} {generation} not found"
    start = data.index(b"stream", header.end()) + len(b"stream")
    return start + into
