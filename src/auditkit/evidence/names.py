"""Member names: the allow-list every path inside a bundle must pass, and safe display.

A bundle member name (and a manifest item ``path``) is a relative POSIX path of
UTF-8 segments. Absolute paths, drive letters, ``..`` and ``.`` segments, empty
segments, backslashes, NUL, control, format (bidi, zero-width) and separator
characters are refused. Two names that are equal after NFC normalization and
case folding are duplicates: a reviewer and a tool could otherwise read
different files under "the same" name.
"""

from __future__ import annotations

import re
import unicodedata

MANIFEST_NAME = "manifest.yaml"
SIGNATURE_NAME = "manifest.sig"
RESERVED_NAMES = frozenset({MANIFEST_NAME, SIGNATURE_NAME})
SCHEMA_HINT = "# yaml-language-server: $schema=../../src/auditkit/schemas/manifest.schema.json"
"""The hint of the manifests in this repository's evidence_samples/ (a path inside the source tree)."""
HINT_PREFIX = "# yaml-language-server: $schema="


def installed_schema_hint() -> str:
    """The editor hint ``bundle init`` writes: the manifest schema of the auditkit that runs, as a file URI."""
    from ..resources import schema_dir

    return HINT_PREFIX + (schema_dir() / "manifest.schema.json").as_uri()
IGNORE_FILE = ".auditkitignore"
IGNORED_BY_DEFAULT = (
    ".DS_Store", "._*", "Thumbs.db", "ehthumbs.db", "desktop.ini", "*~", ".*.swp", "__MACOSX/", ".git/", ".svn/",
    IGNORE_FILE,
)
"""What a folder bundle never holds as evidence: operating-system and editor litter (``NAME/`` is a folder)."""
MAX_NAME_BYTES = 1024
MAX_SEGMENT_BYTES = 255
_DRIVE = re.compile(r"^[A-Za-z]:")
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}


def name_problem(name: str) -> str | None:
    """Why ``name`` is not an acceptable member path, or None if it is."""
    if not name:
        return "empty name"
    for char in name:
        category = unicodedata.category(char)
        if char == "\x00":
            return "name contains a NUL character"
        if category == "Cs":
            return "name is not valid UTF-8"
        if category in _BAD_CATEGORIES:
            kind = "a bidi or invisible format" if category == "Cf" else "a control"
            return f"name contains {kind} character U+{ord(char):04X}"
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        return "name is not valid UTF-8"
    if len(encoded) > MAX_NAME_BYTES:
        return f"name is longer than {MAX_NAME_BYTES} bytes"
    if "\\" in name:
        return "name contains a backslash"
    if name.startswith("/"):
        return "absolute path"
    if _DRIVE.match(name):
        return "name starts with a drive letter"
    for segment in name.split("/"):
        if segment == "..":
            return "path contains '..' (it would leave the bundle)"
        if segment == ".":
            return "path contains a '.' segment"
        if segment == "":
            return "path contains an empty segment ('//' or a trailing '/')"
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            return f"a path segment is longer than {MAX_SEGMENT_BYTES} bytes"
    return None


def fold(name: str) -> str:
    """The key under which two names count as the same (NFC, then case folded)."""
    return unicodedata.normalize("NFC", name).casefold()


def show(name: str) -> str:
    """``name`` quoted for a one-line message, with invisible and control characters escaped."""
    out = []
    for char in name:
        if char in '"\\':
            out.append("\\" + char)
        elif 0xDC80 <= ord(char) <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif unicodedata.category(char) in _BAD_CATEGORIES or char.isspace() and char != " ":
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    text = "".join(out)
    if len(text) > 200:
        text = text[:200] + "…"
    return f'"{text}"'


def ignore_patterns(text: str | None) -> tuple[str, ...]:
    """The default patterns plus those of an ignore file (one glob a line, ``#`` comments)."""
    extra = []
    for line in (text or "").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            extra.append(line)
    return (*IGNORED_BY_DEFAULT, *extra)


def is_ignored(name: str, patterns: tuple[str, ...], *, folder: bool = False) -> bool:
    """Whether member ``name`` (``a/b/c``) matches a pattern: by its last segment, or by its whole path."""
    import fnmatch

    base = name.rsplit("/", 1)[-1]
    for pattern in patterns:
        if pattern.endswith("/"):
            if folder and (fnmatch.fnmatchcase(base, pattern[:-1]) or fnmatch.fnmatchcase(name, pattern[:-1])):
                return True
        elif fnmatch.fnmatchcase(base, pattern) or fnmatch.fnmatchcase(name, pattern):
            return True
    return False
