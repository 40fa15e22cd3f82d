"""The upload page, end to end in a real headless Chromium driven by Playwright."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .support import LiveServer, Tenants, good_zip, write_zip

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Debian's chromium is required (apt-get install -y chromium; .ci/run installs it).


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context()
        # Nothing but the local server: any other request fails the test.
        context.route("**/*", lambda route: route.continue_()
                      if route.request.url.startswith("http://127.0.0.1:") else route.abort())
        tab = context.new_page()
        tab.set_default_timeout(20_000)
        yield tab
        context.close()
        browser.close()


def _upload(page, live: LiveServer, token: str, archive: Path) -> None:
    page.goto(live.url + "/")
    assert page.title().startswith("Evidence intake")
    page.fill("#token", token)
    page.set_input_files("#bundle", str(archive))
    page.click("#submit")
    page.wait_for_load_state()


def test_upload_accepted_shows_verdict_and_receipt(page, live: LiveServer, tenants: Tenants,
                                                   tmp_path: Path):
    archive = good_zip(tmp_path)
    _upload(page, live, tenants.acme, archive)
    assert page.inner_text("#verdict").strip().startswith("Accepted")
    receipt = json.loads(page.inner_text("#receipt"))
    assert receipt["receipt"]["verdict"] == "accepted"
    assert receipt["receipt"]["bundle_id"] == "acme-us-2026-q3"
    assert receipt["receipt"]["archive_name"] == archive.name
    assert page.inner_text("#root-hash") == receipt["receipt"]["bundle_root_hash"]
    page.screenshot(path=str(tmp_path / "accepted.png"), full_page=True)


def test_upload_rejected_shows_reasons(page, live: LiveServer, tenants: Tenants, tmp_path: Path):
    archive = write_zip(tmp_path / "<b>evil<i>.zip", {"manifest.yaml": b"bundle: {}\n",
                                                       "<script>x</script>.txt": b"x"})
    _upload(page, live, tenants.acme, archive)
    assert page.inner_text("#verdict").strip().startswith("Rejected")
    reasons = page.locator("#reasons li").all_inner_texts()
    assert reasons, "no reasons shown"
    # Hostile names are shown as text, never as markup.
    assert page.locator("script").count() == 0
    assert page.locator("b").count() == 0
    assert "<b>evil<i>.zip" in page.inner_text("h1")
    receipt = json.loads(page.inner_text("#receipt"))
    assert receipt["receipt"]["verdict"] == "rejected"
    page.screenshot(path=str(tmp_path / "rejected.png"), full_page=True)


def test_wrong_token_shows_a_clear_error(page, live: LiveServer, tmp_path: Path):
    archive = write_zip(tmp_path / "x.zip", {"a.txt": b"a"})
    _upload(page, live, "akt_wrong", archive)
    assert "401" in page.inner_text("#error")
    assert "unknown or revoked API token" in page.inner_text("#error")
    assert list((live.store / "incoming").iterdir()) == []


def test_not_an_archive_is_rejected_on_the_page(page, live: LiveServer, tenants: Tenants,
                                                tmp_path: Path):
    text = tmp_path / "notes.txt"
    text.write_text("not an archive")
    _upload(page, live, tenants.acme, text)
    assert page.inner_text("#verdict").strip().startswith("Rejected")
    assert "not a .zip or .tar.gz" in page.inner_text("#reasons")


def test_receipt_downloads_named_after_the_archive(page, live: LiveServer, tenants: Tenants, tmp_path: Path):
    archive = good_zip(tmp_path)
    _upload(page, live, tenants.acme, archive)
    link = page.locator("#download-receipt")
    assert link.inner_text() == f"Download receipt ({archive.name}.receipt.json)"
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == f"{archive.name}.receipt.json"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert json.loads(saved.read_text()) == json.loads(page.inner_text("#receipt"))
    from click.testing import CliRunner

    from auditkit.cli import cli

    key = tmp_path / "server.pub"
    runner = CliRunner()
    assert runner.invoke(cli, ["intake", "key", "export", "--store", str(live.store), "-o", str(key)]).exit_code == 0
    checked = runner.invoke(cli, ["receipt", "verify", str(saved), "--key", str(key)])
    assert checked.exit_code == 0, checked.output
