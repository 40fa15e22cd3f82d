"""JUnit XML: golden file, counts a JUnit consumer relies on, escaping of hostile text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from auditkit.results.formats import junit


def test_golden(results, golden):
    golden("junit.xml", junit.render(results))


def test_counts_match_the_testcases(results):
    root = ET.fromstring(junit.render(results))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["DL Data localization", "TP Third-party oversight"]
    for element in [root, *suites]:
        cases = element.iter("testcase")
        cases = list(cases)
        assert int(element.get("tests")) == len(cases)
        assert int(element.get("failures")) == sum(c.find("failure") is not None for c in cases)
        assert int(element.get("skipped")) == sum(c.find("skipped") is not None for c in cases)
        assert element.get("errors") == "0"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("7", "3", "2")


def test_testcases_carry_status_reasons_and_justifications(results):
    root = ET.fromstring(junit.render(results))
    cases = {c.get("name").split()[0]: c for c in root.iter("testcase")}
    assert set(cases) == {c.id for c in results.controls}
    assert cases["DL-2"].get("classname") == "DL"
    assert cases["DL-2"].get("name") == "DL-2 Egress | flows stay <inside> the U.S. & approved peers"
    failure = cases["DL-2"].find("failure")
    assert failure.get("message") == "not-satisfied"
    assert "check DL-2.1 fail: 3 records break the rule (3 offending records)" in failure.text
    assert "check DL-2.2 error: no such key: 'dest' at column 4" in failure.text
    assert "evidence/attestation.pdf: collected 2026-05-01" in cases["DL-3"].find("failure").text
    assert cases["DL-3"].find("failure").get("message") == "insufficient-evidence"
    assert cases["TP-1"].find("failure").get("message") == "partially-satisfied"
    assert "No sub-processors" in cases["TP-2"].find("skipped").get("message")
    assert "SIEM migration in flight" in cases["TP-3"].find("skipped").get("message")
    assert cases["DL-1"].find("failure") is None and cases["DL-1"].find("skipped") is None
    override = cases["TP-4"]
    assert override.find("failure") is None
    assert "auditor override by Lee Park: not-satisfied -> satisfied" in override.find("system-out").text


def test_a_junit_consumer_reads_it(results):
    import junitparser
    xml = junitparser.JUnitXml.fromstring(junit.render(results))
    assert (xml.tests, xml.failures, xml.skipped, xml.errors) == (7, 3, 2, 0)
    by_name = {case.name.split()[0]: case for suite in xml for case in suite}
    assert not by_name["DL-1"].is_skipped and by_name["DL-1"].is_passed
    assert by_name["TP-3"].is_skipped
    assert [type(r).__name__ for r in by_name["DL-3"].result] == ["Failure"]


@settings(max_examples=60, deadline=None)
@given(title=st.text(min_size=1, max_size=40), reason=st.text(max_size=40))
def test_any_text_gives_well_formed_xml(make_results, make_control, title, reason):
    from auditkit.results import model as rm

    control = make_control("DL-9", "DL", "not-satisfied", credit=0.0, title=title, remediation=reason,
                           checks=[rm.CheckResult(id="DL-9.1", title="t", outcome="error", reason=reason,
                                                  expression="x", evidence_kinds=[])])
    root = ET.fromstring(junit.render(make_results(controls=[control])))
    case = next(root.iter("testcase"))
    assert case.get("name") == "DL-9 " + junit.xml_safe(title)
