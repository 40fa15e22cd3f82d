"""The report laid out in parts and joined is the report WeasyPrint makes of the whole HTML in one go.

Rendered with small groups (many parts, two worker processes) and compared with one
WeasyPrint document of the same HTML: the same text on every page, the same outline
(titles, nesting, pages and positions), the same links (page, rectangle, target page
and position), the same named destinations and the same structure tree.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from auditkit.report import parts, render
from auditkit.report.env import template_dir


@pytest.fixture(scope="module")
def joined(tmp_path_factory: pytest.TempPathFactory, results_file: Path) -> tuple[Path, Path, int]:
    folder = tmp_path_factory.mktemp("parts")
    patch = pytest.MonkeyPatch()
    patch.setattr(parts, "GROUP_BYTES", 6 * 1024)  # a part per section or two
    try:
        made = render.render_report(results_file, manifest_bytes=None, output=folder / "joined.pdf",
                                    html_output=folder / "report.html", jobs=2)
        layout = parts.split(render.build_html(render._load(results_file)[0],
                                               results_sha256=made.results_sha256))
    finally:
        patch.undo()
    import weasyprint

    html = (folder / "report.html").read_text(encoding="utf-8")
    weasyprint.HTML(string=html, base_url=template_dir().resolve().as_uri() + "/").write_pdf(
        folder / "whole.pdf", pdf_variant="pdf/a-3b", pdf_tags=True)
    return folder / "joined.pdf", folder / "whole.pdf", len(layout.groups)


def _pages_text(path: Path) -> list[str]:
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return done.stdout.split("\f")[:-1]


def _describe(path: Path) -> dict[str, Any]:
    with pikepdf.open(path) as pdf:
        index = {page.objgen: i for i, page in enumerate(pdf.pages)}
        outline: list[tuple[int, str, int, float, float]] = []

        def walk(item: Any, depth: int) -> None:
            while item is not None:
                dest = item.Dest
                outline.append((depth, str(item.Title), index[dest[0].objgen], round(float(dest[2]), 1),
                                round(float(dest[3]), 1)))
                if "/First" in item:
                    walk(item.First, depth + 1)
                item = item.get("/Next")

        walk(pdf.Root.Outlines.First, 0)
        dests = {name: (index[d[0].objgen], round(float(d[3]), 1))
                 for name, d in pikepdf.NameTree(pdf.Root.Names.Dests).items()}
        links = []
        for i, page in enumerate(pdf.pages):
            for annotation in page.obj.get("/Annots", []):
                target = dests.get(str(annotation.Dest)) if "/Dest" in annotation else str(annotation.A.URI)
                links.append((i, [round(float(v), 1) for v in annotation.Rect], target))
        kinds: Counter[str] = Counter()
        tree = pdf.Root.StructTreeRoot

        def count(element: Any) -> None:
            kinds[str(element.S)] += 1
            kids = element.get("/K")
            for kid in (kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []):
                if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/StructElem":
                    count(kid)

        count(tree.K[0])
        nums = tree.ParentTree.Nums
        keys = [int(nums[i]) for i in range(0, len(nums), 2)]
        mcids = []
        for i, page in enumerate(pdf.pages):
            assert int(page.obj.StructParents) in keys, f"page {i} has no parent-tree entry"
            contents = page.obj.Contents
            data = b"".join(s.read_bytes() for s in contents) if isinstance(contents, pikepdf.Array) \
                else contents.read_bytes()
            mcids.append(data.count(b"/MCID"))
        return {"mcids": mcids, "pages": len(pdf.pages), "outline": outline, "dests": dests, "links": links,
                "kinds": kinds, "entries": len(keys), "sorted": keys == sorted(keys)}


def test_many_parts_were_joined(joined: tuple[Path, Path, int]) -> None:
    assert joined[2] >= 5


def test_same_text_on_every_page(joined: tuple[Path, Path, int]) -> None:
    ours, whole, _ = joined
    mine, theirs = _pages_text(ours), _pages_text(whole)
    assert len(mine) == len(theirs)
    total = len(mine)
    for number, (a, b) in enumerate(zip(mine, theirs, strict=True), start=1):
        # the whole-document rendering has no contents page numbers (they are filled in at joining)
        a = re.sub(r"\.{3,}\s*\d+\s*", "… ", a)
        b = re.sub(r"\.{3,}\s*", "… ", b)
        assert " ".join(a.split()) == " ".join(b.split()), f"page {number} differs"
        assert f"Page {number} of {total}" in a


def test_contents_page_numbers_point_at_their_sections(joined: tuple[Path, Path, int]) -> None:
    ours, _, _ = joined
    pages = _pages_text(ours)
    contents = next(text for text in pages if "Contents" in text and "Executive summary" in text)
    numbers = dict(re.findall(r"^\s*(Executive summary|Findings|Evidence index|Sign-off)\s*\.+\s*(\d+)\s*$",
                              contents, flags=re.M))
    assert set(numbers) == {"Executive summary", "Findings", "Evidence index", "Sign-off"}
    for title, number in numbers.items():
        assert title in pages[int(number) - 1].split("\n", 3)[-1] or title in pages[int(number) - 1]


def test_same_outline_links_destinations_and_tags(joined: tuple[Path, Path, int]) -> None:
    ours, whole, _ = joined
    mine, theirs = _describe(ours), _describe(whole)
    assert mine["pages"] == theirs["pages"]
    assert mine["outline"] == theirs["outline"] and len(mine["outline"]) > 10
    assert mine["dests"] == theirs["dests"]
    # contents entries end in their page number, which the whole-document rendering lacks
    assert [(p, t) for p, _, t in mine["links"]] == [(p, t) for p, _, t in theirs["links"]]
    assert [link for link in mine["links"] if link[0] != 1] == [link for link in theirs["links"] if link[0] != 1]
    assert len(mine["links"]) > 5
    assert mine["kinds"] == theirs["kinds"]
    # every page's marked content is WeasyPrint's, less the page number (an artifact once stamped);
    # the contents page differs by its numbers
    assert [n + 1 for i, n in enumerate(mine["mcids"]) if i != 1] == \
        [n for i, n in enumerate(theirs["mcids"]) if i != 1]
    assert mine["entries"] == theirs["entries"] and mine["sorted"]


def test_page_numbers_are_artifacts(joined: tuple[Path, Path, int]) -> None:
    ours, _, _ = joined
    with pikepdf.open(ours) as pdf:
        for page in pdf.pages:
            content = b"".join(s.read_bytes() for s in page.obj.Contents) \
                if isinstance(page.obj.Contents, pikepdf.Array) else page.obj.Contents.read_bytes()
            assert b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC" in content
            assert "/AkPageNumber" in page.obj.Resources.XObject


def test_same_bytes_in_one_process_and_in_two(joined: tuple[Path, Path, int], results_file: Path,
                                              tmp_path: Path) -> None:
    patch = pytest.MonkeyPatch()
    patch.setattr(parts, "GROUP_BYTES", 6 * 1024)
    try:
        render.render_report(results_file, manifest_bytes=None, output=tmp_path / "one.pdf", jobs=1)
    finally:
        patch.undo()
    assert (tmp_path / "one.pdf").read_bytes() == joined[0].read_bytes()


def test_split_keeps_what_precedes_the_first_marker() -> None:
    html = ("<html><head></head><body><p>before</p><!--auditkit:part-->cover<!--auditkit:part-->toc"
            "<!--auditkit:part-->a<!--auditkit:part-->b</body></html>")
    layout = parts.split(html, group_bytes=1)
    assert layout.front == "<p>before</p>covertoc"
    assert layout.groups == ["a", "b"]
    assert parts.split(html, group_bytes=100).groups == ["ab"]
    assert layout.part(0).count("<body>") == 1


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def test_a_worker_that_dies_is_said_in_one_line(results_file: Path) -> None:
    import os
    import signal

    from auditkit.errors import InternalError

    html = render.build_html(render._load(results_file)[0], results_sha256="0" * 64)
    layout = parts.split(html, group_bytes=4 * 1024)
    assert len(layout.groups) >= 4

    def kill_a_worker(finished: int, total: int, part: parts.RenderedPart) -> None:
        for server in _children(os.getpid()):
            if b"forkserver" in Path(f"/proc/{server}/cmdline").read_bytes():
                for worker in _children(server):
                    os.kill(worker, signal.SIGKILL)

    with pytest.raises(InternalError, match=r"a process laying out the report died after 1 of \d+ parts") as info:
        parts.render_parts(layout, template_dir(), jobs=2, done=kill_a_worker)
    assert "--jobs 1" in info.value.render() and "\n" not in info.value.render()
