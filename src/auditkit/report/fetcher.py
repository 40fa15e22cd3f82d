"""The only URL fetcher WeasyPrint gets: files inside the template folder and ``data:`` URLs.

Anything else (``file://`` outside the folder, a symlink leading out of it,
``http(s)``, ``ftp``) is refused and stops the rendering: a report must never
embed a file from the auditor's machine nor call the network.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

MAX_RESOURCE_BYTES = 32 * 1024 * 1024


def _weasy() -> Any:
    import weasyprint.urls

    return weasyprint.urls


def make_fetcher(root: Path) -> Any:
    """A WeasyPrint ``URLFetcher`` confined to ``root`` (resolved) and ``data:`` URLs."""
    urls = _weasy()
    base = Path(root).resolve()

    class ConfinedFetcher(urls.URLFetcher):  # type: ignore[misc, name-defined]
        """Refuses everything but ``data:`` and ``file:`` inside the template folder."""

        refused: list[str]

        def __init__(self) -> None:
            super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False,
                             fail_on_errors=True)
            self.refused = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = urlsplit(url).scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                parts = urlsplit(url)
                if parts.netloc not in ("", "localhost"):
                    return self._refuse(url, "remote file URL")
                path = Path(unquote(parts.path)).resolve()
                if not path.is_relative_to(base) or not path.is_file():
                    return self._refuse(url, "outside the template folder")
                if path.stat().st_size > MAX_RESOURCE_BYTES:
                    return self._refuse(url, "too large")
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return urls.URLFetcherResponse(
                    path.as_uri(), body=path.read_bytes(), headers={"Content-Type": mime}
                )
            return self._refuse(url, f"{scheme or 'relative'} URLs are not allowed")

        def _refuse(self, url: str, why: str) -> Any:
            self.refused.append(f"{url[:200]}: {why}")
            raise RefusedURL(f"refused to fetch {url[:200]} ({why})")

    return ConfinedFetcher()


def layout_html(html: str, folder: Path, fetcher: Any) -> Any:
    """``html`` (from the templates in ``folder``) laid out by WeasyPrint with ``fetcher``."""
    import weasyprint

    return weasyprint.HTML(string=html, base_url=Path(folder).resolve().as_uri() + "/",
                           url_fetcher=fetcher).render()


class RefusedURL(Exception):
    """Raised inside the fetcher; WeasyPrint turns it into a fatal fetching error."""
