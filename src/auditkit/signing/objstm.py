"""A pyHanko PDF reader that finds objects in object streams by index instead of by scanning.

pyHanko 0.38 reads an object from an object stream by parsing the stream's header
from the start until it meets the object, for every object it reads outside its
cache, as the difference analysis of a multi-signature file does for each earlier
revision. WeasyPrint puts thousands of objects in one object stream, so verifying a
co-signed report was quadratic: about 20 s for a short report. :func:`open_reader`
returns a reader that parses each header once and seeks straight to the object;
anything unusual (an index that does not match, a damaged header, a forbidden
object type) falls back to pyHanko's own reading, with its strictness and errors.
"""

from __future__ import annotations

import io
from typing import Any


def open_reader(data: bytes, *, strict: bool) -> Any:
    """A ``PdfFileReader`` over ``data`` with indexed object-stream access."""
    from pyhanko.pdf_utils import generic as _generic
    from pyhanko.pdf_utils import misc as _misc
    from pyhanko.pdf_utils.decode_limits import DecodePurpose
    from pyhanko.pdf_utils.reader import PdfFileReader

    generic: Any = _generic  # pyHanko's parsing helpers are untyped
    misc: Any = _misc
    base: Any = PdfFileReader
    Index = tuple[bytes, int, list[tuple[int, int]]] | None  # noqa: N806 - a type alias

    class IndexedReader(base):  # type: ignore[misc]

        def _index(self, stmnum: int) -> Index:
            cache: dict[int, Index] = self.__dict__.setdefault("_objstm_index", {})
            if stmnum in cache:
                return cache[stmnum]
            entry = None
            try:
                stream = generic.Reference(stmnum, 0, self).get_object()
                if isinstance(stream, generic.StreamObject) and stream.get("/Type") == "/ObjStm":
                    raw = stream.read_data(DecodePurpose.OBJECT_STREAM)
                    handle = io.BytesIO(raw)
                    pairs = []
                    for _ in range(int(stream["/N"])):
                        misc.read_non_whitespace(handle, seek_back=True)
                        objnum = generic.NumberObject.read_from_stream(handle)
                        misc.read_non_whitespace(handle, seek_back=True)
                        offset = generic.NumberObject.read_from_stream(handle)
                        pairs.append((int(objnum), int(offset)))
                    entry = (raw, int(stream["/First"]), pairs)
            except Exception:  # noqa: BLE001 - pyHanko's own path reports it properly
                entry = None
            cache[stmnum] = entry
            return entry

        def _get_object_from_stream(self, idnum: int, stmnum: int, idx: int) -> Any:
            entry = self._index(stmnum)
            if entry is not None:
                raw, first, pairs = entry
                if 0 <= idx < len(pairs) and pairs[idx][0] == idnum:
                    handle = io.BytesIO(raw)
                    handle.seek(first + pairs[idx][1])
                    try:
                        obj = generic.read_object(handle, generic.Reference(idnum, 0, self))
                    except Exception:  # noqa: BLE001 - fall back below
                        obj = None
                    if obj is not None and not isinstance(obj, generic.StreamObject | generic.IndirectObject):
                        return obj
            return super()._get_object_from_stream(idnum, stmnum, idx)

    return IndexedReader(io.BytesIO(data), strict=strict)
