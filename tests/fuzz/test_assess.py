"""Fuzz `auditkit assess` as a user runs it: hostile evidence, manifests, profiles,
assessment files and dates, over a small catalog whose checks use CEL broadly and over
the shipped catalog with one sample file swapped.

Every run exits 0 (results written, complete), 3 or 4 (one line per problem, nothing
written); never 5, never a traceback. Nothing appears anywhere but the output path.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import strategies as st

from .conftest import assert_empty, fuzz
from .strategies import (
    HOSTILE_SCALARS,
    HOSTILE_TEXT,
    csv_bytes,
    json_bytes,
    manifest_fields,
    manifest_for,
    yaml_bytes,
)

ROOT = Path(__file__).resolve().parents[2]
FAMILY = """\
family: {id: ZZ, title: Fuzz family, version: "1"}
controls:
  - id: ZZ-1
    title: Things are fine
    objective: Something holds.
    severity: critical
    params:
      limit: {type: integer, default: 3}
      regions: {type: "list[string]", default: [us-east-1]}
      since: {type: date, default: "2026-01-01"}
    evidence:
      - {kind: thing-list, formats: [json, yaml, csv], max_age_days: 90, coverage: monthly}
    checks:
      - id: ZZ-1.1
        title: Counts within the limit
        each: thing_list.records
        where: has(r.count)
        assert: r.count <= params.limit && r.count * 2 - 1 >= -9223372036854775807
      - id: ZZ-1.2
        title: Regions approved
        each: thing_list.records
        assert: r.region in params.regions || r.region.startsWith("us-") || size(r.region) > 100
      - id: ZZ-1.3
        title: Fresh enough
        expr: thing_list.documents.all(d, days_between(d.collected_at, as_of) <= 400)
      - id: ZZ-1.4
        title: Dated records
        each: thing_list.records
        assert: days_between(params.since, r.date) >= 0 && string(r.count) != "" && int(r.id) >= 0
      - id: ZZ-1.5
        title: Something listed
        expr: size(thing_list.records) > 0 && thing_list.latest != null
        offenders: thing_list.records
    procedures:
      - {id: ZZ-1.p1, method: examine, prompt: Look at the things.}
    remediation: Fix the things.
"""
PROFILE = "profile: {id: fuzz, title: Fuzz}\nparams:\n  ZZ-1: {limit: LIMIT, since: SINCE}\n"
ASSESSMENT = """\
engagement:
  auditee: Acme
  auditor: {name: Lee Park}
  as_of: AS_OF
  period: {start: START, end: END}
procedures:
  - {control: ZZ-1, procedure: ZZ-1.p1, result: affirmed, by: Lee Park, date: AS_OF}
waivers:
  - {control: ZZ-1, justification: Migration in flight, approved_by: CCO, expires: EXPIRES}
"""
DATES = ["2026-10-15", "0001-01-01", "9999-12-31", "2026-07-01", "2026-09-30"]
RECORDS = st.fixed_dictionaries({}, optional={
    "id": st.one_of(st.sampled_from(["1", "a", "-5", "9" * 30]), st.integers()),
    "count": st.one_of(st.integers(), st.floats(), st.booleans(), st.none(), st.text(max_size=4)),
    "region": st.one_of(st.sampled_from(["us-east-1", "eu-west-1", "", "é"]), st.integers(), st.none()),
    "date": st.sampled_from(["2026-07-01", "0001-01-01", "9999-12-31", "2026-02-30", "x", "2026-07-01T00:00:00Z"]),
})
records_json = st.lists(RECORDS, max_size=4).map(lambda rows: json.dumps(rows).encode())
evidence = st.one_of(
    st.tuples(st.just("json"), st.one_of(records_json, json_bytes)),
    st.tuples(st.just("yaml"), yaml_bytes),
    st.tuples(st.just("csv"), st.one_of(csv_bytes, st.just(b"id,count,region,date\n1,2,us-east-1,2026-08-01\n"))),
)


def mostly(usual: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Usually ``usual``, one time in five a hostile text."""
    return st.tuples(st.integers(0, 4), usual, HOSTILE_TEXT).map(lambda t: t[2] if t[0] == 0 else t[1])


runs = st.fixed_dictionaries({
    "evidence": evidence,
    "fields": st.one_of(st.just({}), st.just({}), manifest_fields),
    "rehash": st.sampled_from([True, True, True, False]),
    "as_of": st.sampled_from([None, *DATES]),
    "assessment": st.one_of(st.none(), st.fixed_dictionaries({
        key: mostly(st.sampled_from(DATES)) for key in ("AS_OF", "START", "END", "EXPIRES")})),
    "profile": st.one_of(st.none(), st.fixed_dictionaries({
        "LIMIT": mostly(st.sampled_from(["5", "-1", "0", *HOSTILE_SCALARS[:6]])),
        "SINCE": mostly(st.sampled_from(DATES))})),
    "format": st.sampled_from(["json", "json", "csv", "markdown", "junit", "oscal"]),
    "shipped": st.sampled_from([False, False, False, True]),
})


def _write_text(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8", "surrogatepass"))


def _prepare(example: Path, run: dict[str, Any]) -> list[str]:
    """Write the inputs of one run under ``example``; return the command line's arguments."""
    fmt, data = run["evidence"]
    bundle = example / "bundle"
    samples = ROOT / "evidence_samples" / "globex"
    if run["shipped"] and any((samples / "evidence").rglob(f"*.{fmt}")):
        shutil.copytree(samples, bundle)
        target = sorted((bundle / "evidence").rglob(f"*.{fmt}"))[0]
        target.write_bytes(data)
        manifest = (bundle / "manifest.yaml").read_text(encoding="utf-8")
        name = target.relative_to(bundle).as_posix()
        if run["rehash"]:
            import hashlib
            import re

            block = re.search(rf"  - path: {re.escape(name)}\n(?:    .*\n)+", manifest)
            assert block is not None
            fixed = re.sub(r"sha256: \w+", f"sha256: {hashlib.sha256(data).hexdigest()}", block.group())
            fixed = re.sub(r"size: \d+", f"size: {len(data)}", fixed)
            manifest = manifest.replace(block.group(), fixed)
        _write_text(bundle / "manifest.yaml", manifest)
        args = ["assess", str(bundle)]
    else:
        (bundle / "evidence").mkdir(parents=True)
        files = {f"evidence/things.{fmt}": data}
        (bundle / f"evidence/things.{fmt}").write_bytes(data)
        fields = dict(run["fields"])
        fields.pop("path", None)
        if fields.get("kind") is not None and run["rehash"]:
            fields.pop("kind")
        _write_text(bundle / "manifest.yaml", manifest_for(files, fields, rehash=run["rehash"]))
        (example / "controls").mkdir()
        (example / "controls" / "zz.yaml").write_text(FAMILY, encoding="utf-8")
        args = ["assess", str(bundle), "--controls", str(example / "controls")]
        if run["profile"] is not None:
            text = PROFILE
            for key, value in run["profile"].items():
                text = text.replace(key, value.replace("\n", " "))
            _write_text(example / "profile.yaml", text)
            args += ["--profile", str(example / "profile.yaml")]
    if run["assessment"] is not None and "--controls" in args:
        text = ASSESSMENT
        for key, value in run["assessment"].items():
            text = text.replace(key, value.replace("\n", " "))
        _write_text(example / "assessment.yaml", text)
        args += ["--assessment", str(example / "assessment.yaml")]
    if run["as_of"] is not None:
        args += ["--as-of", run["as_of"]]
    return args


def test_assess_cli(private_tmp, tmp_path):
    from auditkit.cli import cli

    runner = CliRunner()
    count = iter(range(10**9))

    def body(run: dict[str, Any]) -> None:
        example = tmp_path / f"run{next(count)}"
        example.mkdir()
        try:
            args = _prepare(example, run)
            before = sorted(p.relative_to(example) for p in example.rglob("*"))
            out = example / "out"
            out.mkdir()
            target = out / f"results.{run['format']}"
            result = runner.invoke(cli, [*args, "--format", run["format"], "-o", str(target),
                                         "--workers", "1", "--timeout", "20"], catch_exceptions=False)
            assert result.exit_code in (0, 3, 4), (result.exit_code, result.output[-3000:])
            assert "Traceback" not in result.output and "internal error" not in result.output, result.output
            if result.exit_code == 0:
                assert [p.name for p in out.iterdir()] == [target.name]
                if run["format"] == "json":
                    assert json.loads(target.read_bytes())["controls"]
            else:
                assert_empty(out)
                lines = result.output.splitlines()
                assert any(line.startswith("auditkit: error:") for line in lines), result.output
                assert all(line.strip() for line in lines), result.output
            out.rmdir() if result.exit_code else None
            assert sorted(p.relative_to(example) for p in example.rglob("*") if p.parent != out
                          and p != out) == before
            assert_empty(private_tmp)
        finally:
            shutil.rmtree(example)

    fuzz("assess", runs, body, quick=60)
