"""Hypothesis strategies for hostile input: values, YAML, JSON, CSV, manifests, archives.

Built from what has broken parsers before: integers beyond 2^53 and beyond 4,300
digits, dates at the ends of the calendar with offsets, YAML anchors, tags and merge
keys, lone surrogates, control and bidi characters, path tricks, and plain byte noise.
Most generated documents are a valid document with a few values swapped for hostile
ones, so the parsers get past their first line.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import warnings
import zipfile
from typing import Any

from hypothesis import strategies as st

HOSTILE_SCALARS = [
    "9007199254740993", "-9007199254740993", "18446744073709551616", "9" * 4301, "-" + "1" * 4400,
    "0x" + "f" * 3700, "0o" + "7" * 5000, "1e400", "-1e400", "1" * 400 + ".5", ".nan", ".inf", "-.inf", "0", "-0",
    "0001-01-01T00:30:00+01:00", "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "0001-01-01", "9999-12-31", "2026-02-30", "2026-13-01", "10000-01-01", "2026-10-03T14:00:00",
    "!!int '3'", "!!str 3", "!custom x", "! x", "&a x", "*a", "<<", "=", "~", "''", '""', "[]", "{}", "[[[[", "]]",
    "{a: 1, a: 2}", "é", "\u202etxt", "\u200b", "\x1b[31m", "\ud800", "\x00", "\ufeff", "NO", "1:30", "yes", "0o17",
    "'it''s'", '"\\ud800"', '"\\x00"', '"\\U0010FFFF"', "|\n  block", ">-\n  folded", "- item", "? k", "# c", "%",
    "@", "`", "\t", "../x.json", "/etc/passwd", "C:/x.json", "a\\b.json", "a//b.json", "evidence/", ".",
]
HOSTILE_TEXT = st.one_of(
    st.sampled_from(HOSTILE_SCALARS),
    st.text(max_size=12),
    st.text(st.characters(codec="utf-8"), max_size=8),
)

# ---- YAML ---------------------------------------------------------------------------------

YAML_PIECES = [
    "a", "b", ":", ": ", " ", "  ", "\n", "\n  ", "- ", "[", "]", "{", "}", ", ", "&x ", "*x", "!!int ", "!!str ",
    "!t ", "!<tag:yaml.org,2002:int> ", "<<", "<<: ", "=", "? ", "|\n  ", ">\n  ", "'", '"', "#", "---\n", "...\n",
    "%YAML 1.2\n", "%TAG !e! tag:x,2000:\n", "\t", "\\", "é", "\x85", "\u2028", "\ufeff", "~", "null", "true", "NO",
    "1", "-1", "1.5", ".nan", "9" * 4301, "0x" + "f" * 3700, "9007199254740993", "2026-10-03", "1:30", "@", "`",
]
yaml_texts = st.one_of(
    st.lists(st.sampled_from(YAML_PIECES), max_size=24).map("".join),
    st.recursive(
        st.sampled_from(HOSTILE_SCALARS).map(lambda s: s.replace("\n", " ")),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
            st.dictionaries(st.sampled_from(["a", "b", "<<", "=", "? x", "&k a", "!!str c"]), inner, max_size=3)
            .map(lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}"),
        ),
        max_leaves=10,
    ),
)
yaml_bytes = st.one_of(yaml_texts.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=64))

# ---- JSON ---------------------------------------------------------------------------------

JSON_ATOMS = ["0", "-0", "1e400", "-1e400", "1" * 4301, "-" + "9" * 5000, "9007199254740993", "18446744073709551616",
              "1.5", "NaN", "Infinity", "-Infinity", "true", "null", '"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"',
              '"é"', '"\\u202e"', '"2026-10-03"', '"0001-01-01"', '"9999-12-31T23:59:59Z"', '"a\\"b"', "[]", "{}"]
json_values = st.recursive(
    st.sampled_from(JSON_ATOMS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda xs: "[" + ",".join(xs) + "]"),
        st.lists(st.tuples(st.sampled_from(['"id"', '"count"', '"region"', '"id"', '""', '"\\ud800"']), inner),
                 max_size=4).map(lambda kv: "{" + ",".join(f"{k}:{v}" for k, v in kv) + "}"),
    ),
    max_leaves=12,
)
json_bytes = st.one_of(
    json_values.map(str.encode),
    st.integers(60, 200).map(lambda depth: b"[" * depth + b"]" * depth),
    st.tuples(json_values, st.sampled_from([b"\xef\xbb\xbf", b"\xff", b"\x00", b"", b" ", b"]", b","]))
    .map(lambda t: t[1] + t[0].encode() if t[1] == b"\xef\xbb\xbf" else t[0].encode() + t[1]),
    st.binary(max_size=48),
)

# ---- CSV ----------------------------------------------------------------------------------

CSV_CELLS = ["a", "id", "count", "", " ", '"', '""', '"a,b"', '"a\nb"', "\r", "1", "-1", "0", "-0", "1.5", "-0.0",
             "9" * 5000, "1" * 400 + ".5", "1e999", "true", "false", "TRUE", "=cmd|' /C calc'!A0", "+1", "@SUM(1)",
             "\x00", "é", "\u202e", "\ud800", "9007199254740993", "2026-10-03", "0001-01-01T00:30:00+01:00"]
csv_rows = st.lists(st.lists(st.sampled_from(CSV_CELLS), min_size=0, max_size=4), max_size=5)
csv_bytes = st.one_of(
    st.tuples(csv_rows, st.sampled_from(["\n", "\r\n", "\r"])).map(
        lambda t: t[1].join(",".join(row) for row in t[0]).encode("utf-8", "surrogatepass")),
    st.binary(max_size=48),
)

# ---- manifests ----------------------------------------------------------------------------

MANIFEST_FIELDS = {
    "id": "acme-2026-q3", "organization": "Acme", "start": "2026-07-01", "end": "2026-09-30", "name": "Dana",
    "email": "dana@acme.example", "created": "2026-10-03T14:00:00Z", "path": "evidence/things.json",
    "kind": "thing-list", "sha256": "0" * 64, "size": "10", "collected_at": "2026-09-30T23:00:00Z",
    "item_start": "2026-07-01", "item_end": "2026-09-30", "source": "export",
}
MANIFEST_TEMPLATE = """\
bundle:
  id: {id}
  organization: {organization}
  period: {{start: {start}, end: {end}}}
  submitted_by: {{name: {name}, email: {email}}}
  created: {created}
items:
  - path: {path}
    kind: {kind}
    sha256: {sha256}
    size: {size}
    collected_at: {collected_at}
    period: {{start: {item_start}, end: {item_end}}}
    source: {source}
"""


def manifest_text(fields: dict[str, str]) -> str:
    return MANIFEST_TEMPLATE.format(**{**MANIFEST_FIELDS, **fields})


def _mutate(text: str, edits: list[tuple[int, int, str]]) -> str:
    for position, cut, insert in edits:
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at + cut:]
    return text


manifest_fields = st.dictionaries(st.sampled_from(sorted(MANIFEST_FIELDS)), HOSTILE_TEXT, max_size=3)
manifests = st.one_of(
    manifest_fields.map(manifest_text),
    st.tuples(manifest_fields, st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 6),
                                                  st.sampled_from(YAML_PIECES + HOSTILE_SCALARS)), max_size=4))
    .map(lambda t: _mutate(manifest_text(t[0]), t[1])),
)


def manifest_for(files: dict[str, bytes], fields: dict[str, str], *, rehash: bool = True) -> str:
    """A manifest listing ``files`` (first item's fields from ``fields``), hashes right when ``rehash``."""
    head, _, _ = manifest_text(fields).partition("  - path:")
    items = []
    for index, (path, data) in enumerate(files.items()):
        mine = {**MANIFEST_FIELDS, **(fields if index == 0 else {})}
        digest = hashlib.sha256(data).hexdigest() if rehash else mine["sha256"]
        size = len(data) if rehash and "size" not in fields else mine["size"]
        items.append(
            f"  - path: {path if index or 'path' not in fields else mine['path']}\n    kind: {mine['kind']}\n"
            f"    sha256: {digest}\n    size: {size}\n    collected_at: {mine['collected_at']}\n"
            f"    period: {{start: {mine['item_start']}, end: {mine['item_end']}}}\n"
        )
    return head + "".join(items)


# ---- archives -----------------------------------------------------------------------------

MEMBER_NAMES = ["manifest.yaml", "evidence/things.json", "evidence/things.csv", "evidence/Things.json",
                "../escape.txt", "/tmp/escape-abs.txt", "a/../../escape.txt", "evidence/a\x00b.json",
                "evidence/\u202etxt.json", "evidence\\win.json", "C:/x.json", "evidence/" + "a" * 300 + ".json",
                "evidence/", "manifest.sig", "evidence/nested.zip", "e\u0301.json", "\u00e9.json", ".", ""]
TAR_TYPES = [tarfile.REGTYPE, tarfile.REGTYPE, tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE,
             tarfile.FIFOTYPE, tarfile.CHRTYPE, tarfile.CONTTYPE]
member_data = st.one_of(
    json_bytes, yaml_bytes, csv_bytes,
    st.just(b"PK\x03\x04" + b"\x00" * 26), st.just(b"\x1f\x8b\x08\x00" + b"\x00" * 6),
)
members = st.lists(st.tuples(st.sampled_from(MEMBER_NAMES), member_data), max_size=5)


def zip_bytes(entries: list[tuple[str, bytes]], compression: int) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", compression) as archive:
        warnings.simplefilter("ignore")  # duplicate names are the point
        for name, data in entries:
            try:
                archive.writestr(name or "x", data)
            except ValueError:
                archive.writestr("x", data)
    return buffer.getvalue()


def tar_bytes(entries: list[tuple[str, bytes, bytes]], truncate: int = 0) -> bytes:
    """A .tar.gz of ``(name, data, member type)``; links point outside; ``truncate`` cuts the tail."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, data, kind in entries:
            info = tarfile.TarInfo(name or "x")
            info.type = kind
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = "../../etc/passwd"
            if info.isreg():
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            else:
                archive.addfile(info)
    raw = buffer.getvalue()
    return raw if truncate == 0 else raw[: max(10, len(raw) - truncate)]


def flip(raw: bytes, flips: list[tuple[int, int]]) -> bytes:
    data = bytearray(raw)
    for position, value in flips:
        if data:
            data[position % len(data)] = value
    return bytes(data)


def valid_members(files: dict[str, bytes]) -> list[tuple[str, bytes]]:
    return [("manifest.yaml", manifest_for(files, {}).encode()), *files.items()]


def json_dumps(value: Any) -> bytes:
    return json.dumps(value).encode()
