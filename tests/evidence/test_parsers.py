"""Evidence parsers: JSON depth and constants, CSV typing contract (hypothesis), YAML safety."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditkit.errors import InvalidInputError
from auditkit.evidence.parsers import (
    coerce_cell,
    format_of,
    json_depth,
    parse_content,
    parse_csv,
    parse_json,
)


@pytest.mark.parametrize(("path", "fmt"), [("a/b.JSON", "json"), ("x.yml", "yaml"), ("x.csv", "csv"),
                                           ("x.md", "text"), ("x.jpeg", "image"), ("x.pdf", "pdf"),
                                           ("x.docx", None), ("dir.json/x", None)])
def test_format_by_extension(path, fmt):
    assert format_of(path) == fmt


def test_json_100000_deep_is_refused_without_recursion():
    with pytest.raises(InvalidInputError, match="nested 100000 levels deep"):
        parse_json(b"[" * 100_000 + b"]" * 100_000, "deep.json")
    with pytest.raises(InvalidInputError, match="nested"):
        parse_json(b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "deep.json")


def test_json_depth_ignores_brackets_in_strings():
    assert json_depth(b'{"a": "[[[[{{{{", "b": ["\\"[["]}') == 2
    assert parse_json(b'[[["x"]]]', "x.json", max_depth=3) == [[["x"]]]
    with pytest.raises(InvalidInputError, match="over the limit of 2"):
        parse_json(b'[[["x"]]]', "x.json", max_depth=2)


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_json_non_finite_refused(constant):
    with pytest.raises(InvalidInputError, match="non-finite"):
        parse_json(b'{"x": ' + constant + b"}", "x.json")


def test_json_duplicate_keys_and_syntax_errors_are_located():
    with pytest.raises(InvalidInputError, match="duplicate key 'a'"):
        parse_json(b'{"a": 1, "a": 2}', "x.json")
    with pytest.raises(InvalidInputError, match=r"x\.json:2:1: invalid JSON"):
        parse_json(b'{"a": 1,\n}', "x.json")


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(), c, max_size=3),
                    max_leaves=20))
def test_json_round_trip(value):
    assert parse_json(json.dumps(value).encode(), "x.json") == value


# ---- the orjson fast path equals the exact parser ------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=5), c, max_size=4),
    max_leaves=25)


def _same_as_exact(data: bytes, max_depth: int = 64) -> None:
    from auditkit.evidence import fastjson
    from auditkit.evidence.parsers import parse_json_exact

    fast = fastjson.loads(data, max_depth)
    try:
        exact = parse_json_exact(data, "x.json", max_depth=max_depth)
    except InvalidInputError as exc:
        assert fast is fastjson.UNSURE, f"fast path accepted what the exact parser refuses: {exc}"
        with pytest.raises(InvalidInputError) as refused:
            parse_json(data, "x.json", max_depth=max_depth)
        assert str(refused.value) == str(exc)
        return
    assert repr(parse_json(data, "x.json", max_depth=max_depth)) == repr(exact)  # repr: 1 and 1.0 differ
    if fast is not fastjson.UNSURE:
        assert repr(fast) == repr(exact)


@given(JSON_VALUES, st.booleans(), st.sampled_from([None, 0, 2]), st.integers(min_value=1, max_value=6))
def test_fast_json_equals_the_exact_parser(value, ascii_only, indent, max_depth):
    _same_as_exact(json.dumps(value, ensure_ascii=ascii_only, indent=indent).encode(), max_depth)


@pytest.mark.parametrize("data", [
    rb'{"a": 1, "a": 2}', rb'[{"a": 1}, {"b": 2, "b": 3}]', rb'{"a\u003a": 1, "a:": 2}', rb'{"a\u003A": 1}',
    rb'{"x": "a:b", "x": 1}', b"[" * 65 + b"]" * 65, b"[" * 64 + b"]" * 64, b"[" * 2000 + b"]" * 2000,
    rb'{"a": "[[[[", "b": [[[]]]}', rb'["\"[[[[[[[[[[[[[[", "]]"]', rb"12345678901234567890",
    rb"[-9223372036854775809]", rb'{"id": "k1234567890123456789012"}', rb"1e400", rb"[-1e400]", rb"NaN",
    rb'"\ud800"', rb'"\udc00x"', b'\xef\xbb\xbf{"a": 1}', b"\xff", rb'{"a": 1,}', rb"-0", rb"-0.0", rb"0.1",
    rb"1E2", rb'""', rb'"\u0000"', rb'{"a":{"b":{"c":[1,2,{"d":null}]}}}', b"  [1, 2]\n", rb'{"\\": "\\\\"}',
])
def test_fast_json_hostile_cases(data):
    _same_as_exact(data)


def test_yaml_uses_the_safe_loader():
    assert parse_content(b"country: NO\ntime: 1:30\n", "yaml", "x.yaml") == {"country": "NO", "time": "1:30"}
    with pytest.raises(InvalidInputError, match="aliases"):
        parse_content(b"a: &x [1]\nb: *x\n", "yaml", "x.yaml")
    with pytest.raises(InvalidInputError, match="tag"):
        parse_content(b"a: !!python/object:os.system x\n", "yaml", "x.yaml")


def test_opaque_formats_have_no_content():
    assert parse_content(b"%PDF-1.7", "pdf", "x.pdf") is None


# ---- CSV -----------------------------------------------------------------------------------

INT = re.compile(r"-?(0|[1-9][0-9]*)")
FLOAT = re.compile(r"-?(0|[1-9][0-9]*)\.[0-9]+")


def expected(cell: str):
    if cell == "":
        return None
    if cell in ("true", "false"):
        return cell == "true"
    if INT.fullmatch(cell):
        return int(cell)
    if FLOAT.fullmatch(cell):
        return float(cell)
    return cell


cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["true", "false", "True", "TRUE", "", "0", "-0", "007", "1e5", "1.", ".5", "-1.50",
                     "NaN", "inf", " 1", "1 "]),
    st.integers(-10**12, 10**12).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)


@given(st.text(min_size=1, max_size=40))
def test_cell_coercion_follows_the_contract(cell):
    assert coerce_cell(cell) == expected(cell)
    assert type(coerce_cell(cell)) is type(expected(cell))


@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                        min_size=1, max_size=8).filter(lambda s: s.strip()),
                min_size=1, max_size=5, unique=True),
       st.data())
def test_csv_round_trip(header, data):
    rows = data.draw(st.lists(st.lists(cells, min_size=len(header), max_size=len(header)), max_size=6))
    rows = [r for r in rows if any(c != "" for c in r) or len(r) > 1]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    parsed = parse_csv(buffer.getvalue().encode(), "x.csv")
    assert parsed == [dict(zip(header, map(expected, row), strict=True)) for row in rows]


@pytest.mark.parametrize(
    ("text", "reason"),
    [(b"", "no header"), (b"a,,c\n1,2,3\n", "column 2 has no name"), (b"a,b,a\n1,2,3\n", "names column 'a' twice"),
     (b"a,b\n1,2,3\n", "row has 3 cells"), (b"a,b\n\xff,1\n", "not valid UTF-8"),
     (b"a\n" + b"9" * 400 + b"." + b"9\n", "out of range")],
)
def test_csv_refusals(text, reason):
    with pytest.raises(InvalidInputError, match=reason):
        parse_csv(text, "x.csv")


def test_csv_row_cap():
    with pytest.raises(InvalidInputError, match="more than 3 rows"):
        parse_csv(b"a\n1\n2\n3\n4\n", "x.csv", max_rows=3)
    assert len(parse_csv(b"a\n1\n2\n3\n", "x.csv", max_rows=3)) == 3


def test_nested_archive_magic():
    import bz2
    import gzip
    import lzma

    from auditkit.evidence.reader import nested_archive

    assert nested_archive(bz2.compress(b"x")) == "a bzip2 file"
    assert nested_archive(gzip.compress(b"x")) == "a gzip file"
    assert nested_archive(lzma.compress(b"x")) == "an xz file"
    assert nested_archive(b"BZh is how the note starts") is None
    assert nested_archive(b"%PDF-1.7") is None
    assert nested_archive(b"\x00" * 257 + b"ustar\x0000") == "a tar archive"


@given(st.binary(max_size=200) | st.lists(cells, max_size=12).map(lambda c: ("h1,h2\n" + "\n".join(
    ",".join(c[i:i + 2]) for i in range(0, len(c), 2))).encode()))
def test_csv_check_only_mode_refuses_exactly_what_parsing_refuses(data):
    def outcome(collect):
        try:
            parse_csv(data, "x.csv", collect=collect)
            return "ok"
        except InvalidInputError as exc:
            return exc.detail

    assert outcome(True) == outcome(False)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_csv_line_endings_and_quoted_newlines(newline):
    text = newline.join(["a,b", '1,"two' + newline + 'lines"', "3,\u2028x"]) + newline
    assert parse_csv(text.encode(), "x.csv") == [{"a": 1, "b": "two" + newline + "lines"},
                                                 {"a": 3, "b": "\u2028x"}]


def test_fast_json_takes_ordinary_evidence_and_leaves_doubt_to_the_exact_parser():
    from auditkit.evidence import fastjson

    assert fastjson.loads(b'[{"id": "a", "at": "2026-09-30T00:00:00Z", "n": 3, "ok": true}]', 64) == [
        {"id": "a", "at": "2026-09-30T00:00:00Z", "n": 3, "ok": True}]
    for doubtful in (b'{"a": 1, "a": 2}', b"[[[1]]]", b"[12345678901234567890]", b'{"a\\u003a": 1}'):
        assert fastjson.loads(doubtful, 2) is fastjson.UNSURE
