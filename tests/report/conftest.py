"""Fixtures for the report tests: a results file, its rendering, keys for signing."""

from __future__ import annotations

from pathlib import Path

import pytest

from .sample import build_results

MANIFEST = b"bundle:\n  id: acme-us-2026-q3\nitems: []\n"


@pytest.fixture(scope="session")
def results_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from auditkit.results.io import to_json_bytes

    path = tmp_path_factory.mktemp("results") / "results.json"
    path.write_bytes(to_json_bytes(build_results(12)))
    return path


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory, results_file: Path):  # type: ignore[no-untyped-def]
    from auditkit.report import render_report

    folder = tmp_path_factory.mktemp("rendered")
    return render_report(
        results_file, manifest_bytes=MANIFEST, output=folder / "report.pdf",
        html_output=folder / "report.html",
    )


@pytest.fixture(scope="session")
def report_text(rendered) -> str:  # type: ignore[no-untyped-def]
    import subprocess

    done = subprocess.run(["pdftotext", "-layout", str(rendered.output), "-"],
                          capture_output=True, text=True, check=True, timeout=120)
    return done.stdout
