"""The root hash: RFC 8785 over the manifest as written, items sorted by path (hypothesis)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from auditkit.evidence import canonical_bytes, open_bundle, pack_bundle, root_hash, seal_bundle

from .conftest import FILES

paths = st.lists(
    st.from_regex(r"evidence/[a-z0-9][a-z0-9-]{0,12}\.(json|csv|pdf)", fullmatch=True),
    min_size=0, max_size=8, unique=True,
)
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


def manifest_data(item_paths: list[str], note: str) -> dict:
    return {
        "bundle": {"id": "b", "organization": note, "period": {"start": "2026-07-01", "end": "2026-09-30"},
                   "submitted_by": {"name": "n", "email": "n@x.example"}, "created": "2026-10-03T14:00:00Z"},
        "items": [{"path": p, "kind": "k", "sha256": hashlib.sha256(p.encode()).hexdigest(), "size": len(p),
                   "collected_at": "2026-09-30T23:00:00Z", "description": note} for p in item_paths],
    }


@given(paths, text, st.randoms())
def test_item_order_does_not_change_the_root_hash(item_paths, note, rnd):
    data = manifest_data(item_paths, note)
    shuffled = dict(data, items=list(data["items"]))
    rnd.shuffle(shuffled["items"])
    reordered_keys = {"items": shuffled["items"], "bundle": dict(reversed(list(data["bundle"].items())))}
    assert root_hash(data) == root_hash(shuffled) == root_hash(reordered_keys)


@given(paths.filter(bool), text, text)
def test_any_change_changes_the_root_hash(item_paths, note, other):
    data = manifest_data(item_paths, note)
    changed = json.loads(json.dumps(data))
    changed["items"][0]["description"] = note + other + "!"
    assert root_hash(data) != root_hash(changed)


@given(paths, text)
def test_canonical_bytes_are_rfc8785_of_the_sorted_document(item_paths, note):
    data = manifest_data(item_paths, note)
    expected = rfc8785.dumps({**data, "items": sorted(data["items"], key=lambda i: i["path"])})
    assert canonical_bytes(data) == expected
    assert root_hash(data) == hashlib.sha256(expected).hexdigest()
    assert json.loads(canonical_bytes(data)) == {**data, "items": sorted(data["items"], key=lambda i: i["path"])}


@settings(max_examples=10, deadline=None)
@given(st.permutations(sorted(FILES)))
def test_same_content_same_root_hash_in_every_format(tmp_path_factory, order):
    """Folder, zip and tar.gz of one sealed folder, and any manifest item order: one root hash."""
    base: Path = tmp_path_factory.mktemp("canon")
    folder = base / "bundle"
    for path in order:
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(FILES[path])
    items = "".join(
        f"- {{path: {p}, kind: k, collected_at: '2026-09-30T23:00:00Z'}}\n" for p in order
    )
    (folder / "manifest.yaml").write_text(
        "bundle:\n  id: b\n  organization: o\n  period: {start: 2026-07-01, end: 2026-09-30}\n"
        "  submitted_by: {name: n, email: n@x.example}\n  created: 2026-10-03T14:00:00Z\nitems:\n" + items
    )
    sealed = seal_bundle(folder)
    hashes = {sealed, pack_bundle(folder, base / "b.zip"), pack_bundle(folder, base / "b.tar.gz")}
    for source in (folder, base / "b.zip", base / "b.tar.gz"):
        with open_bundle(source) as bundle:
            hashes.add(bundle.root_hash)
    assert len(hashes) == 1
    assert len(next(iter(hashes))) == 64
