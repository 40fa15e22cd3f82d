"""The auditor's day through the CLI: scaffold the assessment file, hear its warnings, read the summary on a
terminal, gate CI on a rating, compare assessments and signed reports, and complete commands in the shell."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ..terminal import AUDITKIT as TERMINAL_AUDITKIT
from ..terminal import on_terminal

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "evidence_samples"
AUDITKIT = [TERMINAL_AUDITKIT]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    target = tmp_path / "acme-us"
    shutil.copytree(SAMPLES / "acme-us", target)
    return target


@pytest.fixture
def assessed(bundle: Path) -> Path:
    """The acme-us bundle with its assessment file beside it, as shipped."""
    shutil.copy(SAMPLES / "acme-us.assessment.yaml", bundle.parent / "acme-us.assessment.yaml")
    return bundle


def test_assessment_init_scaffolds_every_procedure_of_the_profile(invoke, bundle):
    result = invoke("assessment", "init", "--bundle", bundle, "--auditor", "Lee Park",
                    "--auditor-org", "Example Assurance LLP", "--profile", "strict")
    assert result.exit_code == 0, result.output
    path = bundle.parent / "acme-us.assessment.yaml"
    text = path.read_text()
    data = yaml.safe_load(text)
    from auditkit.catalog import load_catalog, load_profile
    from auditkit.catalog.scaffold import in_scope

    catalog = load_catalog()
    expected = [(c.id, p.id) for c in in_scope(catalog, load_profile("strict", catalog)) for p in c.procedures]
    assert [(p["control"], p["procedure"]) for p in data["procedures"]] == expected
    assert all(p["result"] == "not-performed" and p["by"] == "Lee Park" for p in data["procedures"])
    assert data["engagement"]["auditee"] == "Acme U.S. Data Security Inc."
    assert data["engagement"]["profile"] == "strict"
    first = catalog.control(expected[0][0]).procedures[0]  # type: ignore[union-attr]
    assert f"# {first.method}: {first.prompt.split()[0]}" in text  # the question, as a comment
    assert invoke("assessment", "init", "--bundle", bundle, "--auditor", "X").exit_code == 2  # no overwrite
    # assess finds it beside the bundle and accepts it; no procedure is missing a result
    assessed = invoke("assess", bundle, "-o", bundle.parent / "r.json")
    assert assessed.exit_code == 0, assessed.output
    assert "have no result" not in assessed.output


def test_assessment_warnings(invoke, bundle, tmp_path):
    source = yaml.safe_load((SAMPLES / "acme-us.assessment.yaml").read_text())
    source["engagement"]["auditee"] = "Acme Holdings plc"
    source["engagement"]["profile"] = "strict"  # strict leaves out the BA family
    source["procedures"] = [p for p in source["procedures"] if p["procedure"] != "DL-1.p2"]
    source["waivers"] = [{"control": "AR-5", "justification": "SIEM migration", "approved_by": "CCO",
                          "expires": "2026-09-01"}]
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(source, sort_keys=False))
    result = invoke("assess", bundle, "--assessment", path, "-o", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("auditkit: warning: ")]
    text = "\n".join(warnings)
    assert re.search(r"/procedures/\d+: BA-1 is not assessed by profile 'strict'; the result of BA-1.p1 is ignored",
                     text), text
    assert "/waivers/0: the waiver of AR-5 expired on 2026-09-01, before the as-of date 2026-10-15; it is ignored" \
        in text
    assert re.search(r": 1 procedure of the profile has no result and count as not performed: DL-1.p2", text), text
    assert ("/engagement/auditee: 'Acme Holdings plc' is not the bundle's organization "
            "'Acme U.S. Data Security Inc.'") in text


def test_assess_on_a_terminal_shows_a_summary_not_json(assessed):
    bundle = assessed
    code, out, err = on_terminal(["assess", str(bundle)])
    assert code == 0, err
    plain = ANSI.sub("", out)
    assert "{" not in plain  # no JSON on the terminal
    assert "✔ overall 98.7 / 100: effective" in plain
    assert re.search(r"DL\s+Data localization\s+\d", plain)
    assert "\x1b[32m" in out  # coloured
    assert "results not written (stdout is a terminal): pass -o results.json" in err
    code, out, _ = on_terminal(["assess", str(bundle)], env={"NO_COLOR": "1"})
    assert code == 0 and "\x1b[" not in out and "✔ overall" in out
    # to a pipe: the JSON, and a one-line summary on stderr
    piped = subprocess.run([*AUDITKIT, "assess", str(bundle)], capture_output=True, text=True, timeout=300)
    assert json.loads(piped.stdout)["overall"]["rating"] == "effective"
    assert "\x1b[" not in piped.stderr and "auditkit: overall 98.7 (effective)" in piped.stderr


def test_fail_on(invoke, assessed, tmp_path):
    bundle = assessed
    globex = SAMPLES / "globex"
    out = tmp_path / "r.json"
    ok = invoke("assess", bundle, "-o", out, "--fail-on", "partially-effective")
    assert ok.exit_code == 0, ok.output
    bad = invoke("assess", globex, "-o", out, "--fail-on", "partially-effective")
    assert bad.exit_code == 1 and "rating ineffective is at or below --fail-on partially-effective" in bad.output
    crit = invoke("assess", globex, "-o", out, "--fail-on", "critical")
    assert crit.exit_code == 1 and "critical controls not satisfied: BA-1, BA-8, DL-1" in crit.output
    wrong = invoke("assess", bundle, "-o", out, "--fail-on", "efective")
    assert wrong.exit_code == 2 and "choose critical or one of: effective, partially-effective, ineffective" \
        in wrong.output


def test_diff_exit_code_and_signed_reports(invoke, assessed, tmp_path):
    bundle = assessed
    env = {"AUDITKIT_KEY_PASSPHRASE": "workflow"}
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert invoke("assess", bundle, "-o", a).exit_code == 0
    assert invoke("assess", SAMPLES / "globex", "-o", b).exit_code == 0
    assert invoke("diff", a, a, "--exit-code").exit_code == 0
    changed = invoke("diff", a, b, "--exit-code")
    assert changed.exit_code == 1 and "# Changes between two assessments" in changed.output
    assert invoke("keys", "init", "-o", tmp_path / "keys", "--org", "Example Assurance LLP", env=env).exit_code == 0
    report = tmp_path / "a.pdf"
    made = invoke("report", a, "-o", report, "--sign-key", tmp_path / "keys" / "signer.p12", env=env)
    assert made.exit_code == 0, made.output
    trusted = invoke("diff", report, a, "--trust", tmp_path / "keys" / "ca.pem", "--exit-code", "--format", "json")
    assert trusted.exit_code == 0, trusted.output
    assert json.loads(trusted.output[trusted.output.index("{"):])["changed"] is False
    unverified = invoke("diff", report, b)
    assert unverified.exit_code == 0
    assert f"{report}: signature not verified (pass --trust CA.pem to verify it)" in unverified.output
    other = tmp_path / "other"
    assert invoke("keys", "init", "-o", other, "--org", "Mallory Ltd", env=env).exit_code == 0
    refused = invoke("diff", report, b, "--trust", other / "ca.pem")
    assert refused.exit_code == 4 and "not issued by the trusted CA Mallory Ltd Audit Signing CA" in refused.output


def test_shell_completion_script_is_produced(tmp_path):
    env = {**os.environ, "_AUDITKIT_COMPLETE": "bash_source"}
    exe = shutil.which("auditkit", path=str(Path(sys.executable).parent))
    assert exe
    done = subprocess.run([exe], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "_auditkit_completion()" in done.stdout and "complete -o nosort -F _auditkit_completion auditkit" \
        in done.stdout
    words = subprocess.run([exe], env={**os.environ, "_AUDITKIT_COMPLETE": "bash_complete", "COMP_WORDS": "auditkit as",
                                       "COMP_CWORD": "1"}, capture_output=True, text=True, timeout=60)
    assert "assess" in words.stdout and "assessment" in words.stdout
    readme = (ROOT / "README.md").read_text()
    assert "_AUDITKIT_COMPLETE=bash_source auditkit" in readme
