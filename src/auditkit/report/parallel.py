"""Two-process rendering of the report: split the HTML, lay out and draw both halves at once, join.

Opt-in: ``render_report(..., jobs=2)`` and ``auditkit report --jobs 2``. The output
matches the one-process rendering (``tests/report/test_parallel.py``), but it only
pays when the second core is free: on this shared 2-core machine, while other
sessions kept one core busy, it was no faster (see the notes at the end).

WeasyPrint spends about 80 % of a report's time laying out pages and 20 % drawing
them, all in one thread. Laying out once and drawing in two processes would save
at most a tenth, so the *document* is split instead:

1. The report HTML is cut at the start of a control section (every control section
   starts a page), near the middle by size: chunk 0 holds the cover, contents,
   summary, findings and the first controls; chunk 1 the other controls, the
   evidence index, the methodology and the sign-off.
2. Two forked processes lay out one chunk each. Inside each, WeasyPrint is patched
   (only in that process) at two points:

   * when pagination ends, the process tells the other one its page count and the
     page of every anchor the other chunk links to, and learns the same back. The
     contents page of chunk 0 points at anchors of chunk 1: their page numbers are
     injected into WeasyPrint's target collector and WeasyPrint re-makes just the
     pages that show them (its own ``target-counter`` mechanism);
   * margin boxes are made with the page counter shifted by the pages before the
     chunk and ``pages`` set to the joined total, so "Page X of Y" is right.

   Chunk 1 gets the running strings the cover sets (``doc-title``, ``doc-ref``)
   from a small extra style sheet, and its first page keeps its headers. Links to
   an anchor of the other chunk keep working because each chunk carries an empty,
   absolutely positioned placeholder element with that ``id``.
3. Each process draws its pages (``write_pdf``, PDF/A-3b; only chunk 0 carries the
   attachments and document information). The parent joins the two PDFs with
   pikepdf: chunk 0's catalog (XMP with the PDF/A-3b identification, output intent,
   associated files, document information) stays; chunk 1's pages are appended;
   the named destinations of both chunks are merged (placeholders dropped); the
   outline is rebuilt over the joined pages with WeasyPrint's own bookmark-tree
   algorithm; chunk 1's font subsets get tags of their own (WeasyPrint tags a
   subset by its font, so both halves would use the same names for different
   subsets).

Anything unexpected (no control section to split at, a chunk whose page count
changed after the exchange, a failed process, pikepdf missing) raises
:class:`ParallelUnavailable`; the caller then renders in one process.
"""

from __future__ import annotations

import copy
import html as htmllib
import io
import multiprocessing
import multiprocessing.connection
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONTROL_START = '<section class="control"'
EXCHANGE_TIMEOUT_S = 900.0
_PLACEHOLDER_CLASS = "auditkit-remote-anchor"
_HREF = re.compile(r'href="#([^"]+)"')
_ID = re.compile(r'\bid="([^"]+)"')


class ParallelUnavailable(Exception):
    """The document cannot be rendered in two processes; render it in one."""


@dataclass
class ChunkResult:
    """What a worker sends back to the parent."""

    index: int
    pdf: bytes
    pages: int
    page_heights: list[float]
    bookmarks: list[list[tuple[int, str, tuple[float, float], str]]]
    placeholders: list[str]
    warnings: list[str] = field(default_factory=list)
    seconds_layout: float = 0.0
    seconds_write: float = 0.0
    cpu_seconds: float = 0.0
    """CPU time the worker used (layout and drawing)."""


@dataclass(frozen=True)
class ParallelPdf:
    """The joined PDF and how it was made."""

    pdf: bytes
    pages: int
    warnings: list[str]
    chunk_pages: tuple[int, int]
    chunk_seconds: tuple[tuple[float, float], tuple[float, float]]
    """(layout, write) wall seconds of each chunk."""
    chunk_cpu_seconds: tuple[float, float]
    join_seconds: float


# ───────────────────────── splitting ─────────────────────────


def _css_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
    return f'"{escaped}"'


def _text_of(fragment: str) -> str:
    return " ".join(htmllib.unescape(re.sub(r"<[^>]*>", "", fragment)).split())


def _cover_string(document: str, pattern: str) -> str:
    found = re.search(pattern, document, re.S)
    if found is None:
        raise ParallelUnavailable(f"the cover lacks {pattern!r}")
    return _text_of(found.group(1))


def _placeholders(chunk: str) -> tuple[list[str], str]:
    """Ids linked to from ``chunk`` but not defined in it, and the elements standing in for them."""
    defined = set(_ID.findall(chunk))
    remote = sorted({name for name in _HREF.findall(chunk) if name not in defined})
    spans = "".join(
        f'<span class="{_PLACEHOLDER_CLASS}" id="{htmllib.escape(name)}"></span>' for name in remote
    )
    return remote, spans


_FORCED_BREAK = re.compile(r"section\.control\s*\{[^}]*break-before:\s*page")


def check_stylesheet(css: str) -> None:
    """The split is exact only if every control section starts a page."""
    if _FORCED_BREAK.search(css) is None:
        raise ParallelUnavailable("control sections do not start a new page in the style sheet")


def split_html(document: str) -> tuple[str, str, list[str], list[str]]:
    """The two chunks and, for each, the ids that are placeholders in it."""
    starts = [m.start() for m in re.finditer(re.escape(CONTROL_START), document)]
    body = document.find("<body>")
    end = document.rfind("</body>")
    if len(starts) < 2 or body < 0 or end < 0:
        raise ParallelUnavailable("no control section to split the report at")
    middle = len(document) / 2
    cut = min(starts[1:], key=lambda s: abs(s - middle))
    head = document[: body + len("<body>")]
    title = _cover_string(document, r'<div class="auditee" data-running="(.*?)">')
    ref = _cover_string(document, r'<p class="doc-ref">(.*?)</p>')
    style = (
        "<style>\n"
        f".{_PLACEHOLDER_CLASS} {{ position: absolute; width: 0; height: 0; }}\n"
        "</style>\n"
    )
    style_second = (
        "<style>\n"
        f"html {{ string-set: doc-title {_css_string(title)}, doc-ref {_css_string(ref)}; }}\n"
        "@page :first { @top-left { content: string(doc-title); }"
        " @top-right { content: string(section); } }\n"
        "</style>\n"
    )
    first = document[:cut]
    second = document[cut:end]
    remote_first, spans_first = _placeholders(first)
    remote_second, spans_second = _placeholders(second)
    head_first = head.replace("</head>", style + "</head>", 1)
    head_second = head.replace("</head>", style + style_second + "</head>", 1)
    if head_first == head:
        raise ParallelUnavailable("the report HTML has no </head>")
    chunk0 = head_first + first[len(head):] + spans_first + "\n</body>\n</html>\n"
    chunk1 = head_second + second + spans_second + "\n</body>\n</html>\n"
    return chunk0, chunk1, remote_first, remote_second


# ───────────────────────── the worker ─────────────────────────


class _Exchange:
    """Pagination hand-shake with the other worker, and the values it yields."""

    def __init__(self, index: int, conn: Any, wanted: set[str]) -> None:
        self.index = index
        self.conn = conn
        self.wanted = wanted  # anchors of this chunk the other chunk links to
        self.anchor_pages: dict[str, int] = {}
        self.done = False
        self.local_pages = 0
        self.offset = 0
        self.total = 0
        self.remote_anchor_pages: dict[str, int] = {}

    def swap(self, local_pages: int) -> None:
        self.local_pages = local_pages
        self.conn.send((local_pages, dict(self.anchor_pages)))
        if not self.conn.poll(EXCHANGE_TIMEOUT_S):
            raise ParallelUnavailable("the other rendering process did not answer")
        other_pages, other_anchors = self.conn.recv()
        if other_pages < 0:
            raise ParallelUnavailable("the other rendering process failed")
        self.offset = 0 if self.index == 0 else other_pages
        self.total = local_pages + other_pages
        other_offset = local_pages if self.index == 0 else 0
        # 1-based page numbers in the joined document
        self.remote_anchor_pages = {
            name: other_offset + page_index + 1 for name, page_index in other_anchors.items()
        }
        self.done = True


def _inject_remote_targets(context: Any, exchange: _Exchange) -> None:
    """Give placeholder anchors their real page numbers; mark the pages citing them for re-make."""
    collector = context.target_collector
    page_maker = context.page_maker
    for name, page_number in exchange.remote_anchor_pages.items():
        item = collector.target_lookup_items.get(name)
        if item is None or item.state != "up-to-date":
            continue
        values = {"page": [page_number], "pages": [exchange.total]}
        item.cached_page_counter_values = copy.deepcopy(values)
        for (_box, css_property), lookup in collector.counter_lookup_items.items():
            if css_property != "content" or name not in lookup.missing_target_counters:
                continue
            lookup.pending = True
            if lookup.page_maker_index is not None and lookup.page_maker_index < len(page_maker):
                page_maker[lookup.page_maker_index][-1]["content_changed"] = True


def _patch_weasyprint(exchange: _Exchange) -> None:
    """Hook pagination and margin boxes (in this worker process only)."""
    from weasyprint import layout
    from weasyprint.css import targets

    original_cache = targets.TargetCollector.cache_target_page_counters

    def cache_target_page_counters(
        self: Any, anchor_name: str, page_counter_values: Any, page_maker_index: int,
        page_maker: Any,
    ) -> None:
        if anchor_name in exchange.wanted:
            exchange.anchor_pages[anchor_name] = page_maker_index
        if exchange.done and anchor_name in exchange.remote_anchor_pages:
            return  # a placeholder: keep the real page number
        original_cache(self, anchor_name, page_counter_values, page_maker_index, page_maker)

    original_make_all_pages = layout.make_all_pages

    def make_all_pages(context: Any, root_box: Any, html: Any, pages: Any) -> Any:
        made = yield from _counted(original_make_all_pages(context, root_box, html, pages))
        if not exchange.done:
            exchange.swap(made)
            _inject_remote_targets(context, exchange)
        elif made != exchange.local_pages:
            raise ParallelUnavailable(
                f"chunk {exchange.index} went from {exchange.local_pages} to {made} pages "
                "after page numbers were exchanged"
            )

    original_margin_boxes = layout.make_margin_boxes

    def make_margin_boxes(context: Any, page: Any, state: Any) -> Any:
        state = copy.deepcopy(state)
        counters = state[1]
        counters["page"] = [value + exchange.offset for value in counters.get("page", [0])]
        counters["pages"] = [exchange.total]
        return original_margin_boxes(context, page, state)

    targets.TargetCollector.cache_target_page_counters = cache_target_page_counters
    layout.make_all_pages = make_all_pages
    layout.make_margin_boxes = make_margin_boxes


def _counted(pages: Any) -> Any:
    count = 0
    for page in pages:
        count += 1
        yield page
    return count


def _worker(
    index: int, chunk: str, wanted: list[str], placeholders: list[str], peer: Any, out: Any,
    make_document: Callable[[str], Any], write: Callable[[Any, int], bytes],
) -> None:
    try:
        from .render import _captured_warnings

        exchange = _Exchange(index, peer, set(wanted))
        _patch_weasyprint(exchange)
        cpu = time.process_time()
        with _captured_warnings() as collected:
            started = time.perf_counter()
            document = make_document(chunk)
            laid_out = time.perf_counter()
            if len(document.pages) != exchange.local_pages:
                raise ParallelUnavailable(f"chunk {index} page count changed")
            pdf = write(document, index)
            written = time.perf_counter()
        out.send(ChunkResult(
            index=index,
            pdf=pdf,
            pages=len(document.pages),
            page_heights=[page.height for page in document.pages],
            bookmarks=[list(page.bookmarks) for page in document.pages],
            placeholders=placeholders,
            warnings=collected.messages,
            seconds_layout=laid_out - started,
            seconds_write=written - laid_out,
            cpu_seconds=time.process_time() - cpu,
        ))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which falls back
        try:
            peer.send((-1, {}))  # release a peer waiting for the hand-shake
        except Exception:  # noqa: BLE001, S110
            pass
        out.send(f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}")
    finally:
        out.close()


# ───────────────────────── joining ─────────────────────────


def _outline_tree(results: list[ChunkResult]) -> list[Any]:
    """WeasyPrint's bookmark tree over the pages of both chunks, in PDF coordinates."""
    from weasyprint.anchors import make_page_bookmark_tree
    from weasyprint.matrix import Matrix

    class _Page:
        def __init__(self, bookmarks: list[Any]) -> None:
            self.bookmarks = bookmarks

    scale = 0.75  # WeasyPrint's px -> pt at zoom 1
    root: list[Any] = []
    skipped: list[int] = []
    last_by_depth: list[Any] = [root]
    previous = 0
    number = 0
    for result in results:
        for height, bookmarks in zip(result.page_heights, result.bookmarks, strict=True):
            matrix = Matrix(a=scale, d=-scale, f=height * scale)
            previous = make_page_bookmark_tree(
                _Page(bookmarks), skipped, last_by_depth, previous, number, matrix
            )
            number += 1
    return root


def _write_outline(pdf: Any, tree: list[Any]) -> None:
    import pikepdf

    pages = [page.obj for page in pdf.pages]

    def add(nodes: list[Any], parent: Any) -> tuple[list[Any], int]:
        count = len(nodes)
        made: list[Any] = []
        for title, (page_number, x, y), children, state in nodes:
            item = pdf.make_indirect(pikepdf.Dictionary(
                Title=pikepdf.String(title),
                Dest=pikepdf.Array([pages[page_number], pikepdf.Name.XYZ, x, y, 0]),
            ))
            kids, kids_count = add(children, item)
            item.Count = -kids_count if state == "closed" else kids_count
            if state != "closed":
                count += kids_count
            if made:
                item.Prev = made[-1]
                made[-1].Next = item
            if kids:
                item.First = kids[0]
                item.Last = kids[-1]
            item.Parent = parent
            made.append(item)
        return made, count

    if "/Outlines" in pdf.Root:
        del pdf.Root.Outlines
    if not tree:
        return
    outlines = pdf.make_indirect(pikepdf.Dictionary())
    top, count = add(tree, outlines)
    outlines.Count = count
    outlines.First = top[0]
    outlines.Last = top[-1]
    pdf.Root.Outlines = outlines


def _dests(pdf: Any, skip: set[str], page_offset: int, pages: list[Any]) -> list[tuple[str, Any]]:
    """Named destinations of one chunk, retargeted at the joined document's pages."""
    import pikepdf

    try:
        names = pdf.Root.Names.Dests.Names
    except AttributeError:
        return []
    index_of = {page.obj.objgen: i for i, page in enumerate(pdf.pages)}
    out = []
    for i in range(0, len(names) - 1, 2):
        name = str(names[i])
        if name in skip:
            continue
        dest = names[i + 1]
        page_index = index_of[dest[0].objgen] + page_offset
        out.append((name, pikepdf.Array(
            [pages[page_index], dest[1], float(dest[2]), float(dest[3]), dest[4]]
        )))
    return out


def _fonts(page_objects: list[Any]) -> list[Any]:
    """Font dictionaries used by these pages (and their form XObjects), each once."""
    seen: set[tuple[int, int]] = set()
    fonts: list[Any] = []

    def walk(resources: Any, depth: int) -> None:
        if resources is None or depth > 8:
            return
        for font in (resources.get("/Font") or {}).values():
            if font.objgen not in seen:
                seen.add(font.objgen)
                fonts.append(font)
        for xobject in (resources.get("/XObject") or {}).values():
            if xobject.objgen not in seen and xobject.get("/Subtype") == "/Form":
                seen.add(xobject.objgen)
                walk(xobject.get("/Resources"), depth + 1)

    for page in page_objects:
        walk(page.get("/Resources"), 0)
    return fonts


def _retag_fonts(pdf: Any, first_pages: int) -> None:
    """Give the second half's font subsets their own tags.

    WeasyPrint derives a subset's tag (``ABCDEF+DejaVu-Sans``) from the font, not from
    the glyphs kept, so both halves would name different subsets alike; readers may
    take two fonts of one name for the same font.
    """
    import hashlib

    import pikepdf

    pages = [page.obj for page in pdf.pages]
    taken = {str(font.get("/BaseFont")) for font in _fonts(pages[:first_pages])}
    for font in _fonts(pages[first_pages:]):
        name = str(font.get("/BaseFont"))
        if name not in taken or "+" not in name:
            continue
        base = name.split("+", 1)[1]
        salt = 2
        while True:
            digest = hashlib.sha256(f"{name}#{salt}".encode()).digest()
            new = "/" + "".join(chr(65 + b % 26) for b in digest[:6]) + "+" + base
            if new not in taken:
                break
            salt += 1
        taken.add(new)
        font.BaseFont = pikepdf.Name(new)
        for descendant in font.get("/DescendantFonts") or []:
            descendant.BaseFont = pikepdf.Name(new)
            if "/FontDescriptor" in descendant:
                descendant.FontDescriptor.FontName = pikepdf.Name(new)
        if "/FontDescriptor" in font:
            font.FontDescriptor.FontName = pikepdf.Name(new)


def _sort_name_tree(node: Any) -> None:
    """Sort a flat name tree's keys (WeasyPrint leaves attachments in the order given)."""
    import pikepdf

    names = node.get("/Names")
    if names is None:
        return
    pairs = sorted(((bytes(names[i]), names[i], names[i + 1])
                    for i in range(0, len(names) - 1, 2)), key=lambda t: t[0])
    node.Names = pikepdf.Array([item for _key, name, value in pairs for item in (name, value)])


def join(results: list[ChunkResult]) -> bytes:
    """Chunk 0's document with chunk 1's pages appended; destinations and outline rebuilt."""
    import pikepdf

    first, second = (pikepdf.open(io.BytesIO(r.pdf)) for r in results)
    first.pages.extend(second.pages)  # copies: ``second`` keeps its own pages and names
    _retag_fonts(first, results[0].pages)
    if "/Names" in first.Root and "/EmbeddedFiles" in first.Root.Names:
        _sort_name_tree(first.Root.Names.EmbeddedFiles)
    pages = [page.obj for page in first.pages]
    merged = _dests(first, set(results[0].placeholders), 0, pages)
    merged += _dests(second, set(results[1].placeholders), results[0].pages, pages)
    merged.sort(key=lambda kv: kv[0].encode("utf-8"))
    seen: set[str] = set()
    flat = pikepdf.Array()
    for name, dest in merged:
        if name in seen:
            continue
        seen.add(name)
        flat.append(pikepdf.String(name))
        flat.append(dest)
    if "/Names" not in first.Root:
        first.Root.Names = pikepdf.Dictionary()
    first.Root.Names.Dests = pikepdf.Dictionary(Names=flat)
    _write_outline(first, _outline_tree(results))
    buffer = io.BytesIO()
    first.save(buffer, deterministic_id=True)
    return buffer.getvalue()


# ───────────────────────── entry point ─────────────────────────


def render_pdf_parallel(
    document: str,
    *,
    make_document: Callable[[str], Any],
    write: Callable[[Any, int], bytes],
    stylesheet: str,
) -> ParallelPdf:
    """Render ``document`` (the report HTML) in two processes and join the halves.

    ``make_document(html)`` returns a laid-out WeasyPrint document;
    ``write(document, chunk_index)`` its PDF bytes (chunk 0 is the one that carries
    attachments and metadata). Both run in forked workers.
    """
    try:
        import pikepdf  # noqa: F401
    except ImportError as exc:
        raise ParallelUnavailable("pikepdf is not installed") from exc
    check_stylesheet(stylesheet)
    chunk0, chunk1, remote0, remote1 = split_html(document)
    context = multiprocessing.get_context("fork")
    peer0, peer1 = context.Pipe(duplex=True)
    receivers = []
    workers = []
    for index, (chunk, wanted, placeholders, peer) in enumerate((
        (chunk0, remote1, remote0, peer0),
        (chunk1, remote0, remote1, peer1),
    )):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(
            target=_worker,
            args=(index, chunk, wanted, placeholders, peer, send, make_document, write),
            daemon=True,
        )
        process.start()
        send.close()
        receivers.append(receive)
        workers.append(process)
    results: list[ChunkResult] = []
    problems: list[str] = []
    try:
        pending = dict(enumerate(zip(receivers, workers, strict=True)))
        while pending and not problems:
            waitables = [r for r, _ in pending.values()] + [w.sentinel for _, w in pending.values()]
            ready = multiprocessing.connection.wait(waitables, timeout=EXCHANGE_TIMEOUT_S)
            if not ready:
                problems.append("the rendering processes timed out")
            for index, (receive, process) in list(pending.items()):
                if receive.poll():
                    try:
                        message = receive.recv()
                    except EOFError:
                        message = f"rendering process {index} died"
                elif process.sentinel in ready:
                    message = f"rendering process {index} died"
                else:
                    continue
                del pending[index]
                if isinstance(message, ChunkResult):
                    results.append(message)
                else:
                    problems.append(str(message))
    finally:
        for process in workers:
            if problems and process.is_alive():
                process.kill()
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
        for end in (peer0, peer1, *receivers):
            end.close()
    if problems:
        raise ParallelUnavailable("; ".join(p.splitlines()[0] for p in problems))
    results.sort(key=lambda r: r.index)
    started = time.perf_counter()
    pdf = join(results)
    joined = time.perf_counter() - started
    warnings = list(dict.fromkeys(w for r in results for w in r.warnings))
    return ParallelPdf(
        pdf=pdf,
        pages=sum(r.pages for r in results),
        warnings=warnings,
        chunk_pages=(results[0].pages, results[1].pages),
        chunk_seconds=(
            (results[0].seconds_layout, results[0].seconds_write),
            (results[1].seconds_layout, results[1].seconds_write),
        ),
        chunk_cpu_seconds=(results[0].cpu_seconds, results[1].cpu_seconds),
        join_seconds=joined,
    )


def page_texts(path: Path) -> list[str]:
    """Text of every page (pdftotext), for comparing renderings."""
    import subprocess

    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True, timeout=300)
    return done.stdout.split("\f")[:-1]


# Measured on the 100-control benchmark report (128 pages), 2-core VM shared with
# other sessions running CPU-bound work:
#   one process:   layout ~11 s CPU, write_pdf ~3 s CPU (14.1-14.5 s CPU in all);
#   two processes: 63 + 65 pages, 7.2 + 7.3 s CPU (no extra work), join 0.06-0.08 s.
#   Wall time, medians of 3: raw WeasyPrint 14.2 s, render_report 14.9 s,
#   render_report(jobs=2) 18.4 s. The kernel's autogroup scheduler gives one session
#   about one CPU while another session is busy, so two processes share one core.
# Fresh processes, rendered and signed, interleaved with raw WeasyPrint (unsigned) in
# a quieter window: raw 14.66 / 14.41 / 14.40 s, jobs=1 15.32 / 14.94 / 15.52 s,
# jobs=2 8.48 (second core free) / 12.36 / 14.77 s (others' load back): medians 14.41,
# 15.32 and 12.36 s.
