"""The report laid out as independent part documents, in worker processes, so that memory stays flat.

WeasyPrint holds every page of a document in memory until the PDF is written
(about 2.5 MiB a page for the report), so one 375-page document needs over 1 GiB.
The template marks its top-level sections with ``<!--auditkit:part-->``; every one
of them starts a new page, so laying out runs of them as separate documents gives
the same pages. :func:`split` cuts the HTML there: the *front* (whatever precedes
the first marker, the cover and the contents) and *groups* of the following
sections of about :data:`GROUP_BYTES` of HTML each.

Each group is rendered by :func:`render_part` in a worker process (one at a time
per worker, ``jobs`` workers) and comes back as PDF bytes with what joining needs:
its page count, where its anchors and bookmarks are, and WeasyPrint's warnings.
Links between sections (``href="#id"``) are written as ``auditkit-internal:id``
URIs, which WeasyPrint keeps whatever document the target is in; :mod:`.join`
turns them back into links to named destinations. The page numbers ("Page 3 of
375") are left out of every part and stamped afterwards (:func:`numbers_html`),
and the contents page, laid out last, gets each entry's page number as text.
Nothing here patches WeasyPrint: each part is an ordinary ``HTML(...).write_pdf``.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InternalError

MARKER = "<!--auditkit:part-->"
INTERNAL = "auditkit-internal:"
"""URI scheme of links between sections while the parts are apart."""
GROUP_BYTES = 96 * 1024
"""HTML per group: about 20 control sections, 30 pages and 110 MiB of WeasyPrint's memory."""
DEFAULT_JOBS = 2
"""Worker processes by default (each needs up to about 200 MiB); never more than the CPUs."""

PART_STYLE = """<style>
  /* a part of the report laid out on its own: the page numbers are stamped after joining,
     and only the report's own first page (the cover) drops the running header */
  @page { @bottom-right { content: none; } }
  @page :first { @top-left { content: string(doc-title); } @top-right { content: string(section); } }
</style>
"""
FRONT_STYLE = """<style>
  /* the cover and contents: page numbers are stamped after joining */
  @page { @bottom-right { content: none; } }
</style>
"""
NUMBERS_STYLE = """<style>
  /* only the page numbers, to be laid over the joined pages */
  @page { @top-left { content: none; } @top-right { content: none; } @bottom-left { content: none; }
          @top-center { content: none; } @bottom-center { content: none; } }
  body > div + div { break-before: page; }
</style>
"""


@dataclass(frozen=True)
class Layout:
    """The report's HTML cut into documents that can be laid out apart."""

    head: str
    """Everything up to and including ``<body>``."""
    front: str
    """The cover and the contents."""
    groups: list[str]
    """Runs of the following sections, in order."""

    def document(self, body: str, style: str) -> str:
        head = self.head.replace("</head>", style + "</head>", 1)
        return f"{head}\n{_internal_links(body)}\n</body>\n</html>\n"

    def part(self, index: int) -> str:
        return self.document(self.groups[index], PART_STYLE)

    def front_document(self, pages: Mapping[str, int]) -> str:
        """The cover and contents, each contents entry given the page its target is on."""

        def number(match: re.Match[str]) -> str:
            target = match.group(1)
            page = pages.get(target)
            return match.group(0) if page is None else f'{match.group(0)} data-page="{page}"'

        return self.document(re.sub(r'<a href="#([^"]+)"', number, self.front), FRONT_STYLE)

    def numbers(self, total: int) -> str:
        """A document of ``total`` pages showing nothing but "Page N of total"."""
        return self.document("<div></div>\n" * total, NUMBERS_STYLE)


def split(html: str, group_bytes: int | None = None) -> Layout:
    """Cut the report's HTML at its part markers (see the module docstring)."""
    group_bytes = group_bytes or GROUP_BYTES
    head, sep, rest = html.partition("<body>")
    body, end, _ = rest.rpartition("</body>")
    if not sep or not end or "</head>" not in head:
        raise InternalError("the report template gave no <head> … </head><body> … </body>")
    pieces = body.split(MARKER)
    front, sections = pieces[:3], [piece for piece in pieces[3:] if piece.strip()]
    groups: list[list[str]] = []
    size = 0
    for section in sections:
        if not groups or (size and size + len(section) > group_bytes):
            groups.append([])
            size = 0
        groups[-1].append(section)
        size += len(section)
    return Layout(head=head + sep, front="".join(front), groups=["".join(g) for g in groups])


def _internal_links(body: str) -> str:
    return body.replace('href="#', f'href="{INTERNAL}')


@dataclass
class RenderedPart:
    """One part as a worker returns it (plain data, so that it crosses processes)."""

    pdf: bytes
    pages: int
    anchors: dict[str, int] = field(default_factory=dict)
    """Anchor name to page index (0-based, within the part)."""
    bookmarks: list[tuple[int, int, str, float, float, str]] = field(default_factory=list)
    """(page index, level, label, x, y in PDF points from the bottom left, "open"/"closed")."""
    warnings: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """URLs the confined fetcher refused (the part is then empty)."""


def render_part(html: str, folder: str, tagged: bool = True, variant: str | None = "pdf/a-3b",
                epoch: str | None = None) -> RenderedPart:
    """Lay out and write one part document (in a worker process, or in this one).

    ``epoch`` is the ``SOURCE_DATE_EPOCH`` to subset fonts with (a worker does not see
    the environment of the call that submitted the part)."""
    if epoch is not None:
        os.environ["SOURCE_DATE_EPOCH"] = epoch
    from weasyprint.urls import FatalURLFetchingError

    from .fetcher import layout_html, make_fetcher
    from .render import captured_warnings

    fetcher = make_fetcher(Path(folder))
    with captured_warnings() as collected:
        try:
            document = layout_html(html, Path(folder), fetcher)
            pdf = document.write_pdf(pdf_variant=variant, pdf_tags=tagged)
        except FatalURLFetchingError as exc:
            return RenderedPart(pdf=b"", pages=0, refused=fetcher.refused or [str(exc)])
    anchors, bookmarks = describe(document)
    return RenderedPart(pdf=pdf, pages=len(document.pages), anchors=anchors, bookmarks=bookmarks,
                        warnings=collected.messages)


def describe(document: Any) -> tuple[dict[str, int], list[tuple[int, int, str, float, float, str]]]:
    """A laid-out document's anchors (name to page index) and bookmarks (as :class:`RenderedPart`)."""
    anchors: dict[str, int] = {}
    bookmarks = []
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            anchors.setdefault(name, index)
        for level, label, (x, y), state in page.bookmarks:
            # WeasyPrint's own page matrix: CSS px to PDF points, origin at the bottom left
            bookmarks.append((index, level, label, x * 0.75, (page.height - y) * 0.75, state))
    return anchors, bookmarks


def jobs_for(parts: int, jobs: int | None) -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    wanted = DEFAULT_JOBS if jobs is None else jobs
    return max(1, min(wanted, cpus, parts))


def render_parts(layout: Layout, folder: Path, *, jobs: int | None = None,
                 done: Callable[[int, int, RenderedPart], None] | None = None) -> list[RenderedPart]:
    """Every group of ``layout`` rendered, in order, on up to ``jobs`` worker processes.

    ``done(finished, total, part)`` is called as each part comes back. With one job (or
    one group) the parts are rendered in this process, one after the other."""
    count = len(layout.groups)
    workers = jobs_for(count, jobs)
    results: list[RenderedPart | None] = [None] * count

    def record(index: int, part: RenderedPart) -> None:
        results[index] = part
        if done:
            done(count - results.count(None), count, part)

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if workers == 1:
        for index in range(count):
            record(index, render_part(layout.part(index), str(folder)))
        return results  # type: ignore[return-value]
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
        futures = {pool.submit(render_part, layout.part(index), str(folder), epoch=epoch): index
                   for index in range(count)}
        try:
            for future in as_completed(futures):
                record(futures[future], future.result())
        except BrokenProcessPool:
            raise InternalError(
                f"a process laying out the report died after {count - results.count(None)} of {count} parts",
                hint="it may have run out of memory: try --jobs 1 (one part at a time, in this process)",
            ) from None
    return results  # type: ignore[return-value]


def _context() -> multiprocessing.context.BaseContext:
    """Workers forked from a fork server that has WeasyPrint imported: a fresh single-threaded
    process, so rendering inside a threaded server (``auditkit serve``) or a Celery worker forks
    no other thread's locks, and each worker starts without importing WeasyPrint again."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["auditkit.report.parts", "weasyprint"])
    return context


def page_numbers(front_pages: int, parts: Sequence[RenderedPart]) -> dict[str, int]:
    """Anchor name to 1-based page number in the joined report (the front first)."""
    pages: dict[str, int] = {}
    offset = front_pages
    for part in parts:
        for name, index in part.anchors.items():
            pages.setdefault(name, offset + index + 1)
        offset += part.pages
    return pages
