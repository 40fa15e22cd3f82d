"""The URL fetcher lets WeasyPrint read only the template folder and data: URLs."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from auditkit.report.fetcher import RefusedURL, make_fetcher


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the fetcher tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_allows_template_files_and_data_urls(tmp_path: Path) -> None:
    (tmp_path / "style.css").write_text("p { color: red }")
    fetcher = make_fetcher(tmp_path)
    response = fetcher.fetch((tmp_path / "style.css").as_uri())
    assert response.read() == b"p { color: red }"
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"


@pytest.mark.parametrize("url", [
    "file:///etc/hostname",
    "file:///etc/passwd",
    "http://example.com/logo.png",
    "https://example.com/x.css",
    "ftp://example.com/x",
    "file://otherhost/share/x.css",
])
def test_refuses_everything_else(tmp_path: Path, url: str, no_network: None) -> None:
    fetcher = make_fetcher(tmp_path)
    with pytest.raises(RefusedURL):
        fetcher.fetch(url)
    assert fetcher.refused and fetcher.refused[0].startswith(url[:20])


def test_refuses_escape_by_dotdot_and_symlink(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (folder / "link.css").symlink_to(tmp_path / "secret.txt")
    fetcher = make_fetcher(folder)
    with pytest.raises(RefusedURL):
        fetcher.fetch(folder.as_uri() + "/../secret.txt")
    with pytest.raises(RefusedURL):
        fetcher.fetch((folder / "link.css").as_uri())


@pytest.mark.parametrize("snippet", [
    '<img src="file:///etc/hostname">',
    '<link rel="attachment" href="file:///etc/hostname">',
    '<img src="http://example.com/pixel.png">',
    '<link rel="stylesheet" href="https://example.com/x.css">',
])
def test_render_report_stops_on_a_hostile_template(
    tmp_path: Path, results_file: Path, snippet: str, monkeypatch: pytest.MonkeyPatch,
    no_network: None,
) -> None:
    from auditkit.errors import InvalidInputError
    from auditkit.report import env, render
    from auditkit.report.render import render_report

    folder = tmp_path / "templates"
    shutil.copytree(env.template_dir(), folder)
    page = folder / "report.html.j2"
    page.write_text(page.read_text().replace("<body>", "<body>" + snippet, 1))
    monkeypatch.setattr(env, "template_dir", lambda: folder)
    monkeypatch.setattr(render, "template_dir", lambda: folder)
    out = tmp_path / "report.pdf"
    with pytest.raises(InvalidInputError, match="forbidden resource"):
        render_report(results_file, manifest_bytes=None, output=out)
    assert not out.exists()
