"""Fuzz the readers of untrusted text: YAML, JSON and CSV evidence, and manifests.

Each either returns data or refuses with an AuditkitError (exit 3 or 4) whose lines
name the file; nothing else may escape. What they return must survive what comes
next: canonical hashing, the engine's view of the evidence, the sufficiency rules.
"""

from __future__ import annotations

import datetime as dt
import json

from auditkit import canonjson, yamlio
from auditkit.evidence.parsers import parse_csv, parse_json, parse_yaml

from .conftest import fuzz, refused_or_ok
from .strategies import csv_bytes, json_bytes, manifests, yaml_bytes

AS_OF = [dt.date(2026, 10, 15), dt.date.min, dt.date.max]


def _printable(data: object) -> None:
    """What a parser returned can be written as JSON (results, reports) and hashed."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    text.encode("utf-8")  # no lone surrogates
    refused_or_ok(lambda: canonjson.dumps(data), "/")


def test_yaml_loader(private_tmp):
    def body(raw: bytes) -> None:
        located = refused_or_ok(lambda: yamlio.loads(raw, "f.yaml"), "f.yaml")
        if located is not None:
            _printable(located.data)
            assert located.where("/nowhere").startswith("f.yaml")
        data = refused_or_ok(lambda: parse_yaml(raw, "e.yaml"), "e.yaml")
        if data is not None:
            _printable(data)

    fuzz("yaml", yaml_bytes, body, quick=300)


def test_json_evidence(private_tmp):
    def body(raw: bytes) -> None:
        data = refused_or_ok(lambda: parse_json(raw, "e.json"), "e.json")
        if data is not None:
            _printable(data)

    fuzz("json", json_bytes, body, quick=300)


def test_csv_evidence(private_tmp):
    def body(raw: bytes) -> None:
        rows = refused_or_ok(lambda: parse_csv(raw, "e.csv"), "e.csv")
        if rows is not None:
            _printable(rows)
        refused_or_ok(lambda: parse_csv(raw, "e.csv", collect=False), "e.csv")

    fuzz("csv", csv_bytes, body, quick=300)


def test_manifest_reader(private_tmp):
    from auditkit.catalog.models import EvidenceRequirement
    from auditkit.engine.inputs import iso
    from auditkit.evidence.canonical import root_hash
    from auditkit.evidence.manifest import parse_manifest
    from auditkit.evidence.sufficiency import evidence_problems

    requirements = [EvidenceRequirement(kind="thing-list", formats=("json",), max_age_days=30, coverage=c)
                    for c in ("period", "monthly", "quarterly", "yearly")]

    def body(text: str) -> None:
        raw = text.encode("utf-8", "surrogatepass")
        parsed = refused_or_ok(lambda: parse_manifest(raw, "manifest.yaml"), "manifest.yaml")
        refused_or_ok(lambda: parse_manifest(raw, "manifest.yaml", draft=True), "manifest.yaml")
        if parsed is None:
            return
        manifest, data = parsed
        assert len(root_hash(data)) == 64
        info = manifest.bundle
        assert iso(info.created) and iso(info.period.start) and iso(info.period.end)
        for item in manifest.items:
            assert iso(item.collected_at)
        for requirement in requirements:
            for as_of in AS_OF:
                for line in evidence_problems(requirement, manifest.items, info.period, as_of):
                    assert line.startswith("thing-list:") and len(line) < 2000, line

    fuzz("manifest", manifests, body, quick=300)
