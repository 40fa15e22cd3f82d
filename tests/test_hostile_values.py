"""Hostile values in every input, through the CLI: integers canonical JSON cannot hold,
integers Python cannot print, dates whose arithmetic overflows. Each is exit 3 with one
line naming file and place, or, in evidence, an insufficient-evidence outcome with the
reason; never exit 5."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from auditkit import canonjson
from auditkit.errors import InvalidInputError

SAFE = 2**53 - 1
HUGE = "9" * 4301

FAMILY = (Path(__file__).parent / "data" / "zz-family.yaml").read_text(encoding="utf-8")

PROFILE = """\
profile: {id: test, title: Test}
params:
  ZZ-1: {limit: 5}
"""

ASSESSMENT = """\
engagement:
  auditee: Acme
  auditor: {name: Lee Park}
  as_of: 2026-10-15
waivers:
  - {control: ZZ-1, justification: Migration in flight, approved_by: CCO, expires: 2026-12-31}
"""

HEAD = """\
bundle:
  id: acme-2026-q3
  organization: Acme
  period: {start: 2026-07-01, end: 2026-09-30}
  submitted_by: {name: Dana Whit, email: dana@acme.example}
  created: 2026-10-03T14:00:00Z
items:
"""

THINGS = b'[{"id": "a", "count": 1}, {"id": "b", "count": 2}]'


def item(path: str, data: bytes, *, size: str | None = None, collected: str = "2026-09-30T23:00:00Z",
         period: str = "{start: 2026-07-01, end: 2026-09-30}") -> str:
    return (f"  - path: {path}\n    kind: thing-list\n    sha256: {hashlib.sha256(data).hexdigest()}\n"
            f"    size: {size or len(data)}\n    collected_at: {collected}\n    period: {period}\n")


@pytest.fixture
def workspace(tmp_path: Path):
    """A catalog folder, a profile, an assessment file and a bundle factory, all valid."""
    (tmp_path / "controls").mkdir()
    (tmp_path / "controls" / "zz.yaml").write_text(FAMILY, encoding="utf-8")
    (tmp_path / "profile.yaml").write_text(PROFILE, encoding="utf-8")
    (tmp_path / "assessment.yaml").write_text(ASSESSMENT, encoding="utf-8")

    def bundle(files: dict[str, bytes] | None = None, manifest: str | None = None,
               head: str = HEAD, name: str = "bundle") -> Path:
        files = {"evidence/things.json": THINGS} if files is None else files
        folder = tmp_path / name
        for path, data in files.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(data)
        if manifest is None:
            manifest = head + "".join(item(p, d) for p, d in files.items())
        (folder / "manifest.yaml").write_text(manifest, encoding="utf-8")
        return folder

    return tmp_path, bundle


def refusal(result, *fragments: str) -> str:
    """The one problem line of an exit-3 result, holding every fragment."""
    assert result.exit_code == 3, result.output
    lines = [line for line in result.output.splitlines() if not line.startswith("auditkit:")]
    if not lines:  # a single error is printed on the 'auditkit: error:' line itself
        lines = [line.removeprefix("auditkit: error: ") for line in result.output.splitlines()
                 if line.startswith("auditkit: error:")]
    assert len(lines) == 1, result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def assess_json(invoke, bundle: Path, root: Path, *args: str) -> dict:
    out = root / "results.json"
    result = invoke("assess", bundle, "--controls", root / "controls", "--as-of", "2026-10-15",
                    "--workers", "1", "-o", out, *args)
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8"))


def evidence_problems(results: dict, control: str = "ZZ-1") -> tuple[str, list[str]]:
    found = next(c for c in results["controls"] if c["id"] == control)
    return found["status"], [p for use in found["evidence"] for p in use["problems"]]


# ---- integers beyond 2^53 (canonical JSON) -------------------------------------------------


def test_the_sound_workspace_assesses(invoke, workspace):
    root, bundle = workspace
    results = assess_json(invoke, bundle(), root, "--profile", root / "profile.yaml",
                          "--assessment", root / "assessment.yaml")
    control = next(c for c in results["controls"] if c["id"] == "ZZ-1")
    assert [c["outcome"] for c in control["checks"]] == ["pass"]
    assert evidence_problems(results) == ("waived", [])  # the procedure is not performed


@pytest.mark.parametrize("size", [str(SAFE + 2), str(-SAFE - 2), "18446744073709551616"])
def test_manifest_size_beyond_2_53_is_refused_by_the_schema(invoke, workspace, size):
    root, bundle = workspace
    folder = bundle(manifest=HEAD + item("evidence/things.json", THINGS, size=size))
    for command in (("bundle", "verify", folder), ("bundle", "seal", folder),
                    ("assess", folder, "--controls", root / "controls")):
        refusal(invoke(*command), f"{folder}/manifest.yaml:11:11 /items/0/size:", size)


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("default: 3}", f"default: {SAFE + 2}}}", "zz.yaml:8:39 /controls/0/params/limit/default"),
        ("{type: integer, default: 3}", f"{{type: 'list[integer]', default: [1, {-SAFE - 2}]}}",
         "zz.yaml:8:47 /controls/0/params/limit/default"),
        ("{type: integer, default: 3}", f"{{type: number, default: {SAFE + 2}}}",
         "zz.yaml:8:38 /controls/0/params/limit/default"),
        ("{type: integer, default: 3}", f"{{type: integer, default: 3, maximum: {SAFE + 2}}}",
         "zz.yaml:8:51 /controls/0/params/limit/maximum"),
        ("max_age_days: 90", f"max_age_days: {SAFE + 2}", "zz.yaml:10:70 /controls/0/evidence/0/max_age_days"),
    ],
)
def test_catalog_integers_beyond_2_53_are_refused_by_place(invoke, workspace, old, new, where):
    root, _ = workspace
    path = root / "controls" / "zz.yaml"
    path.write_text(FAMILY.replace(old, new), encoding="utf-8")
    refusal(invoke("controls", "validate", path), where)


def test_profile_parameter_beyond_2_53_is_refused_by_validate_and_assess(invoke, workspace):
    root, bundle = workspace
    profile = root / "profile.yaml"
    profile.write_text(PROFILE.replace("limit: 5", f"limit: {SAFE + 2}"), encoding="utf-8")
    line = refusal(invoke("controls", "validate", root / "controls", profile),
                   "profile.yaml:3:17 /params/ZZ-1/limit:", str(SAFE + 2), "2^53")
    assert "canonical JSON" in line
    refusal(invoke("assess", bundle(), "--controls", root / "controls", "--profile", profile),
            "profile.yaml:3:17 /params/ZZ-1/limit:")


def test_profile_severity_weight_beyond_the_bound_is_refused(invoke, workspace):
    root, _ = workspace
    profile = root / "profile.yaml"
    profile.write_text(PROFILE + f"scoring:\n  severity_weights: {{low: 1, high: {SAFE + 2}}}\n", encoding="utf-8")
    refusal(invoke("controls", "validate", root / "controls", profile), "/scoring/severity_weights/high")


def test_canonicalisation_names_the_pointer_of_an_unsafe_integer():
    with pytest.raises(InvalidInputError) as caught:
        canonjson.dumps({"a": [1, {"b": 2**60}]}, lambda ptr: f"f.yaml {ptr}")
    assert caught.value.where == "f.yaml /a/1/b"
    assert "1152921504606846976 is outside" in caught.value.detail
    assert canonjson.dumps({"n": SAFE, "m": -SAFE}) == b'{"m":-9007199254740991,"n":9007199254740991}'


def test_a_refusal_is_one_line_whatever_the_input_holds():
    """Found by the fuzz suite: a key holding a line break made a two-line message."""
    with pytest.raises(InvalidInputError) as caught:
        canonjson.dumps({"a\nb\x1b[2J": 2**60})
    assert caught.value.render().startswith("/a\\x0ab\\x1b[2J: 1152921504606846976 is outside")
    assert "\n" not in caught.value.render() and "\x1b" not in caught.value.render()


def test_catalog_digest_names_file_and_line_of_an_unsafe_integer(tmp_path):
    from auditkit import yamlio
    from auditkit.catalog.loader import digest

    first = yamlio.loads("a: 1\n", "one.yaml")
    second = yamlio.loads("x:\n  - 1\n  - 18446744073709551616\n", "two.yaml")
    with pytest.raises(InvalidInputError) as caught:
        digest([first.data, second.data], [first, second])
    assert caught.value.render().startswith("two.yaml:3:5 /x/1: 18446744073709551616 is outside")


# ---- integers over 4,300 digits (Python's int-string limit) -----------------------------


def test_manifest_integer_over_4300_digits(invoke, workspace):
    root, bundle = workspace
    folder = bundle(manifest=HEAD + item("evidence/things.json", THINGS, size=HUGE))
    refusal(invoke("bundle", "verify", folder), f"{folder}/manifest.yaml:11:11: integer of more than 4300 digits")


def test_profile_integer_over_4300_digits(invoke, workspace):
    root, _ = workspace
    profile = root / "profile.yaml"
    profile.write_text(PROFILE.replace("limit: 5", f"limit: {HUGE}"), encoding="utf-8")
    refusal(invoke("controls", "validate", root / "controls", profile),
            "profile.yaml:3:17: integer of more than 4300 digits")


def test_assessment_file_integer_over_4300_digits(invoke, workspace):
    root, bundle = workspace
    assessment = root / "assessment.yaml"
    assessment.write_text(ASSESSMENT.replace("auditee: Acme", f"auditee: {HUGE}"), encoding="utf-8")
    refusal(invoke("assess", bundle(), "--controls", root / "controls", "--assessment", assessment),
            "assessment.yaml:2:12: integer of more than 4300 digits")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("evidence/things.yaml", f"- {{id: a, count: {HUGE}}}\n".encode(),
         "evidence/things.yaml:1:18: integer of more than 4300 digits"),
        ("evidence/things.yaml", f"- {{id: a, count: 0x{'f' * 4000}}}\n".encode(),
         "evidence/things.yaml:1:18: integer of more than 4300 digits"),
        ("evidence/things.json", f'[{{"id": "a", "count": {HUGE}}}]'.encode(),
         "evidence/things.json:1:23: invalid JSON: integer of more than 4300 digits"),
        # found by the fuzz suite: JSON numbers beyond the float range, and unpaired surrogates
        ("evidence/things.json", b'[{"id": "a", "count": 1e400}]',
         "evidence/things.json:1:23: invalid JSON: number 1e400 is out of range"),
        ("evidence/things.json", b'[{"id": "\\ud800", "count": 1}]',
         "evidence/things.json /0/id: invalid JSON: string holds an unpaired surrogate escape"),
        ("evidence/things.csv", ("a" * 5000 + "," + "a" * 5000 + "\n1,2\n").encode(),
         "evidence/things.csv:1: CSV header names column 'aaaaaaaa"),
    ],
)
def test_unreadable_evidence_values_are_insufficient_evidence(invoke, workspace, name, data, reason):
    root, bundle = workspace
    folder = bundle({name: data})
    status, problems = evidence_problems(assess_json(invoke, folder, root))
    assert status == "insufficient-evidence"
    assert any(reason in p for p in problems), problems
    assert all(len(p) < 600 for p in problems), problems  # hostile values are quoted short


# ---- dates at the ends of the calendar ----------------------------------------------------


@pytest.mark.parametrize("stamp", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:00:00-05:00"])
@pytest.mark.parametrize("field", ["collected_at", "created"])
def test_timestamp_whose_offset_leaves_the_calendar_is_refused(invoke, workspace, stamp, field):
    root, bundle = workspace
    manifest = HEAD + item("evidence/things.json", THINGS)
    if field == "created":
        manifest, where = manifest.replace("created: 2026-10-03T14:00:00Z", f"created: {stamp}"), "6:12 /bundle/created"
    else:
        manifest, where = manifest.replace("collected_at: 2026-09-30T23:00:00Z", f"collected_at: {stamp}"), \
            "12:19 /items/0/collected_at"
    folder = bundle(manifest=manifest)
    for command in (("bundle", "verify", folder), ("bundle", "inspect", folder),
                    ("assess", folder, "--controls", root / "controls", "--as-of", "2026-10-15")):
        refusal(invoke(*command), f"{folder}/manifest.yaml:{where}: {stamp} falls outside the years 1-9999")


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00Z", "0001-01-01T05:00:00+04:59", "9999-12-31T23:59:59Z"])
def test_timestamps_at_the_ends_of_the_calendar_are_judged(invoke, workspace, stamp):
    root, bundle = workspace
    head = HEAD if stamp.startswith("0001") else HEAD.replace("created: 2026-10-03T14:00:00Z", f"created: {stamp}")
    folder = bundle(manifest=head + item("evidence/things.json", THINGS, collected=stamp))  # not after created
    status, problems = evidence_problems(assess_json(invoke, folder, root))
    if stamp.startswith("0001"):
        assert status == "insufficient-evidence"
        assert any("stale: the newest item (evidence/things.json) was collected 0001-01-01" in p for p in problems)
    else:  # collected after the as-of date: not stale, and its period covers the assessment period
        assert (status, problems) == ("partially-satisfied", [])


@pytest.mark.parametrize(
    ("coverage", "expected"),
    [
        ("period", "items do not cover the period 0001-01-01..9999-12-31: missing 0001-01-01..2026-06-30, "
                   "2026-10-01..9999-12-31"),
        ("monthly", "no item for months 0001-01, 0001-02, 0001-03, 0001-04, 0001-05 and 119982 more "
                    "of the period 0001-01-01..9999-12-31"),
        ("quarterly", "no item for quarters 0001-Q1, 0001-Q2, 0001-Q3, 0001-Q4, 0002-Q1 and 39990 more "
                      "of the period 0001-01-01..9999-12-31"),
        ("yearly", "no item for years 0001, 0002, 0003, 0004, 0005 and 9993 more of the period 0001-01-01..9999-12-31"),
    ],
)
def test_a_ten_thousand_year_period_is_counted_not_enumerated(invoke, workspace, coverage, expected):
    root, bundle = workspace
    (root / "controls" / "zz.yaml").write_text(FAMILY.replace("coverage: period", f"coverage: {coverage}"),
                                               encoding="utf-8")
    head = HEAD.replace("{start: 2026-07-01, end: 2026-09-30}", "{start: 0001-01-01, end: 9999-12-31}")
    folder = bundle(head=head)
    status, problems = evidence_problems(assess_json(invoke, folder, root))
    assert status == "insufficient-evidence"
    assert [p for p in problems if "cover" in p or "no item" in p] == [f"thing-list: {expected}"]
    inspected = invoke("bundle", "inspect", folder, "--controls", root / "controls", "--format", "json")
    assert inspected.exit_code == 0, inspected.output
    assert f"thing-list: {expected}" in json.loads(inspected.output)["controls"][0]["lacks"]


def test_an_item_covering_the_whole_calendar_covers_any_period(invoke, workspace):
    root, bundle = workspace
    head = HEAD.replace("{start: 2026-07-01, end: 2026-09-30}", "{start: 0001-01-01, end: 9999-12-31}")
    head = head.replace("created: 2026-10-03T14:00:00Z", "created: 9999-12-31T23:59:59Z")  # collected before it
    folder = bundle(manifest=head + item("evidence/things.json", THINGS, collected="9999-12-31T00:00:00Z",
                                         period="{start: 0001-01-01, end: 9999-12-31}"))
    results = assess_json(invoke, folder, root, "--as-of", "9999-12-31")
    assert evidence_problems(results) == ("partially-satisfied", [])  # the procedure is not performed


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31"])
def test_as_of_at_the_ends_of_the_calendar(invoke, workspace, as_of):
    root, bundle = workspace
    results = assess_json(invoke, bundle(), root, "--as-of", as_of)
    assert results["assessment"]["as_of"] == as_of
    status, problems = evidence_problems(results)
    if as_of == "9999-12-31":
        assert status == "insufficient-evidence" and any("stale" in p for p in problems), problems


def test_assessment_period_and_waiver_at_year_9999(invoke, workspace):
    root, bundle = workspace
    assessment = root / "assessment.yaml"
    assessment.write_text(
        ASSESSMENT.replace("as_of: 2026-10-15", "as_of: 9999-12-31\n  period: {start: 9999-10-01, end: 9999-12-31}")
        .replace("expires: 2026-12-31", "expires: 9999-12-31"), encoding="utf-8")
    for fmt in ("json", "oscal", "markdown", "csv", "junit"):
        out = root / f"results.{fmt}"
        result = invoke("assess", bundle(), "--controls", root / "controls", "--assessment", assessment,
                        "--workers", "1", "--format", fmt, "-o", out)
        assert result.exit_code == 0, result.output
    results = json.loads((root / "results.json").read_text(encoding="utf-8"))
    assert results["assessment"]["period"] == {"start": "9999-10-01", "end": "9999-12-31"}
    control = results["controls"][0]
    assert (control["computed_status"], control["status"]) == ("insufficient-evidence", "waived")  # live to 9999
    assert any("9999-10-01..9999-12-31" in p for u in control["evidence"] for p in u["problems"])


def test_too_late_a_date_is_a_usage_error(invoke, workspace):
    root, bundle = workspace
    result = invoke("assess", bundle(), "--controls", root / "controls", "--as-of", "10000-01-01")
    assert result.exit_code == 2, result.output


@pytest.mark.parametrize(("field", "value", "place"), [
    ("as_of", "2026-02-30", "assessment.yaml:4:10 /engagement/as_of: Input should be a valid date"),
    ("as_of", "0000-01-01", "assessment.yaml:4:10 /engagement/as_of: Input should be a valid date"),
    ("expires", "2026-02-29", "assessment.yaml:6:84 /waivers/0/expires: Input should be a valid date"),
])
def test_impossible_dates_in_the_assessment_file(invoke, workspace, field, value, place):
    """Found by the 10-minute fuzz run: the schema's date pattern let 2026-02-30 through to
    the typed model, which raised outside any handler (exit 5)."""
    root, bundle = workspace
    assessment = root / "assessment.yaml"
    old = {"as_of": "as_of: 2026-10-15", "expires": "expires: 2026-12-31"}[field]
    assessment.write_text(ASSESSMENT.replace(old, f"{old.split(':')[0]}: {value}"), encoding="utf-8")
    refusal(invoke("assess", bundle(), "--controls", root / "controls", "--assessment", assessment), place)
