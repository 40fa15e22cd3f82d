"""``--format junit``: JUnit XML for CI (a testsuite per family, a testcase per control).

``<failure>`` marks controls that are not-satisfied, partially-satisfied or
insufficient-evidence (message: the status; text: failing checks with reasons and
offender counts, evidence problems, procedures not affirmed, remediation).
``<skipped>`` marks not-applicable and waived controls, with the justification.
Auditor overrides and other notes go to ``<system-out>``. Built with
:mod:`xml.etree.ElementTree`, which escapes; characters XML 1.0 cannot carry are
replaced first. Also home of :func:`failure_lines`, the reasons text the other
text formats share.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - building XML, never parsing it

from ..model import ControlResult, Results

NAME = "junit"
SUFFIX = ".xml"

FAILING = ("not-satisfied", "partially-satisfied", "insufficient-evidence")
SKIPPED = ("not-applicable", "waived")
MAX_LINE = 500

# Characters outside XML 1.0 Char (C0 controls but tab, LF, CR; surrogates; FFFE/FFFF).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _clip(text: str, limit: int = MAX_LINE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def failure_lines(control: ControlResult) -> list[str]:
    """Why a control falls short, one line each: checks, evidence problems, procedures."""
    lines = []
    for check in control.checks:
        if check.outcome == "pass":
            continue
        line = f"check {check.id} {check.outcome}"
        if check.reason:
            line += f": {' '.join(check.reason.split())}"
        if check.offender_count:
            plural = "s" if check.offender_count != 1 else ""
            line += f" ({check.offender_count} offending record{plural})"
        lines.append(_clip(line))
    for use in control.evidence:
        lines.extend(_clip(f"evidence: {' '.join(problem.split())}") for problem in use.problems)
    lines.extend(f"procedure {p.id} {p.result}"
                 for p in control.procedures if p.result != "affirmed")
    return lines


def _skip_message(control: ControlResult) -> str:
    if control.status == "waived" and control.waiver is not None:
        waiver = control.waiver
        return (f"waived until {waiver.expires} by {waiver.approved_by}: {waiver.justification} "
                f"(computed status {control.computed_status})")
    if control.status == "not-applicable":
        return f"not-applicable: {control.not_applicable or 'no justification recorded'}"
    return control.status


def _testcase(parent: ET.Element, control: ControlResult) -> None:
    case = ET.SubElement(parent, "testcase", {
        "classname": xml_safe(control.family),
        "name": xml_safe(f"{control.id} {control.title}"),
        "time": "0",
    })
    if control.status in FAILING:
        failure = ET.SubElement(case, "failure",
                                {"message": control.status, "type": control.status})
        text = [f"{control.id} {control.status} (severity {control.severity})",
                *failure_lines(control)]
        text.append(f"remediation: {control.remediation}")
        failure.text = xml_safe("\n".join(text))
    elif control.status in SKIPPED:
        ET.SubElement(case, "skipped", {"message": xml_safe(_clip(_skip_message(control), 2000))})
    out = []
    if control.override is not None:
        by = f" by {control.override.by}" if control.override.by else ""
        out.append(f"auditor override{by}: {control.computed_status} -> {control.status}: "
                   f"{control.override.reason}")
    out.extend(note for note in control.notes if not note.startswith("auditor override:"))
    if out:
        ET.SubElement(case, "system-out").text = xml_safe("\n".join(out))


def _counts(controls: list[ControlResult]) -> dict[str, str]:
    return {
        "tests": str(len(controls)),
        "failures": str(sum(c.status in FAILING for c in controls)),
        "errors": "0",
        "skipped": str(sum(c.status in SKIPPED for c in controls)),
        "time": "0",
    }


def render(results: Results) -> bytes:
    titles = {f.id: f.title for f in results.catalog.families}
    titles |= {f.id: f.title for f in results.families}
    order = [f.id for f in results.families]
    order += sorted({c.family for c in results.controls} - set(order))
    root = ET.Element("testsuites", {"name": xml_safe(f"auditkit {results.bundle.id}"),
                                     **_counts(results.controls)})
    for family in order:
        members = [c for c in results.controls if c.family == family]
        if not members:
            continue
        suite = ET.SubElement(root, "testsuite", {
            "name": xml_safe(f"{family} {titles.get(family, '')}".strip()), **_counts(members)})
        props = ET.SubElement(suite, "properties")
        score = next((f.score for f in results.families if f.id == family), None)
        for name, value in (("family", family),
                            ("score", "n/a" if score is None else f"{score:g}"),
                            ("bundle-root-hash", results.bundle.root_hash),
                            ("catalog-digest", results.catalog.digest),
                            ("as-of", results.assessment.as_of)):
            ET.SubElement(props, "property", {"name": name, "value": xml_safe(value)})
        for control in members:
            _testcase(suite, control)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
