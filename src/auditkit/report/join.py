"""Join the report's part documents into one tagged PDF/A-3b with pikepdf (see :mod:`.parts`).

The front (cover and contents, written with the attachments and metadata) is the
base; every part's pages are appended to it, and then what WeasyPrint would have
made of one document is rebuilt over the whole:

- **structure tree**: each part's ``Document`` element's children move under the
  base's, and the parent tree is renumbered (pages ``0 … N-1`` in order, then
  every link annotation), as WeasyPrint numbers it;
- **named destinations**: every part's anchors in one ``/Dests`` name tree
  (the first of a name wins, as in WeasyPrint);
- **links**: ``auditkit-internal:id`` URIs become links to destination ``id``;
- **outline**: one bookmark tree from every part's bookmarks, nested by level
  exactly as WeasyPrint nests them;
- **page numbers**: page *i* of the numbers document (nothing but "Page i of N")
  is laid over page *i* as a form XObject, marked as a pagination artifact.

Output is deterministic: the same parts give the same bytes (``/ID`` from content).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from ..errors import InternalError
from .parts import INTERNAL, RenderedPart

NUMBER_XOBJECT = "/AkPageNumber"
Bookmark = tuple[int, int, str, float, float, str]


def join(front: RenderedPart, parts: Sequence[RenderedPart], numbers: bytes) -> tuple[bytes, list[str]]:
    """The joined PDF's bytes and the warnings of joining (links to missing anchors)."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name, NameTree

    base = pikepdf.open(io.BytesIO(front.pdf))
    document = _document_element(base)
    page_values: list[Any] = []
    annotation_values: list[tuple[Any, Any]] = []
    _collect(base, base, 0, page_values, annotation_values)
    names = base.Root.Names
    dests = NameTree(names.Dests) if Name.Dests in names else NameTree.new(base)
    names.Dests = dests.obj
    bookmarks: list[Bookmark] = list(front.bookmarks)
    for part in parts:
        source = pikepdf.open(io.BytesIO(part.pdf))
        first_new = len(base.objects) + 1
        start = len(base.pages)
        base.pages.extend(source.pages)  # pages first: objects copied later map onto these copies
        _collect(base, source, start, page_values, annotation_values)
        copied = base.copy_foreign(_document_element(source))
        for kid in copied.K:
            kid.P = document
            document.K.append(kid)
        if Name.Names in source.Root and Name.Dests in source.Root.Names:
            for name, destination in NameTree(source.Root.Names.Dests).items():
                if name not in dests:
                    dests[name] = _copy(base, destination)
        bookmarks.extend((start + page, level, label, x, y, state)
                         for page, level, label, x, y, state in part.bookmarks)
        _take_stream_data(base, first_new)
        source.close()  # its objects are copied and its streams' data taken: memory of one part at a time

    total = len(base.pages)
    nums: list[Any] = []
    for index, (page, value) in enumerate(zip(base.pages, page_values, strict=True)):
        page.obj.StructParents = index
        nums += [index, value]
    for key, (annotation, value) in enumerate(annotation_values, start=total):
        annotation.StructParent = key
        nums += [key, value]
    tree = base.Root.StructTreeRoot
    tree.ParentTree = base.make_indirect(Dictionary(Nums=Array(nums)))  # flat, as WeasyPrint writes it
    tree.ParentTreeNextKey = total + len(annotation_values)

    warnings = _resolve_links(base, dests)
    _write_outline(base, _bookmark_tree(bookmarks))
    with pikepdf.open(io.BytesIO(numbers)) as numbered:
        first_new = len(base.objects) + 1
        _stamp_numbers(base, numbered)
        _take_stream_data(base, first_new)
    out = io.BytesIO()
    base.save(out, deterministic_id=True, compress_streams=True,
              object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue(), warnings


def _take_stream_data(base: Any, first: int) -> None:
    """Give every stream copied into ``base`` since object ``first`` its own (still encoded) data.

    A stream copied from another PDF reads its data from there only when ``base`` is saved,
    so the source would have to stay open, all its parsed objects with it, until the end;
    once each copied stream holds its bytes, the source can be closed."""
    from pikepdf import Name, Stream

    for number in range(first, len(base.objects) + 1):
        obj = base.get_object((number, 0))
        if isinstance(obj, Stream):
            encoding: Any = obj.get(Name.Filter)
            parameters: Any = obj.get(Name.DecodeParms)
            obj.write(obj.read_raw_bytes(), filter=encoding, decode_parms=parameters, type_check=False)


def _document_element(pdf: Any) -> Any:
    from pikepdf import Array

    kids = pdf.Root.StructTreeRoot.K
    return kids[0] if isinstance(kids, Array) else kids


def _copy(base: Any, obj: Any) -> Any:
    """``obj`` of another PDF in ``base``: indirect objects through pikepdf's foreign copy
    (so that each is copied once and references land on the copies), direct arrays and
    dictionaries rebuilt around them."""
    from pikepdf import Array, Dictionary, Object

    if not isinstance(obj, Object):
        return obj  # a number, converted by pikepdf
    if obj.is_indirect:
        return base.copy_foreign(obj)
    if isinstance(obj, Array):
        return Array([_copy(base, item) for item in obj])
    if isinstance(obj, Dictionary):
        return Dictionary({key: _copy(base, value) for key, value in obj.items()})
    return obj


def _collect(base: Any, source: Any, start: int, page_values: list[Any],
             annotation_values: list[tuple[Any, Any]]) -> None:
    """The parent-tree entries of ``source``'s pages (now at ``start`` in ``base``) and of
    their annotations, in order."""
    from pikepdf import Array, Name

    entries = dict(_number_tree(source.Root.StructTreeRoot.ParentTree))
    same = base is source
    for offset, page in enumerate(source.pages):
        value = entries.get(int(page.obj.get(Name.StructParents, -1)))
        page_values.append(Array() if value is None else value if same else _copy(base, value))
        copied = base.pages[start + offset].obj
        for annotation, original in zip(copied.get(Name.Annots, []), page.obj.get(Name.Annots, []),
                                        strict=True):
            key = original.get(Name.StructParent)
            if key is not None and int(key) in entries:
                value = entries[int(key)]
                annotation_values.append((annotation, value if same else _copy(base, value)))


def _number_tree(node: Any) -> list[tuple[int, Any]]:
    """The (key, value) pairs of a number tree (``/Nums`` leaves under ``/Kids``)."""
    from pikepdf import Name

    nums = node.get(Name.Nums, [])
    pairs = [(int(nums[i]), nums[i + 1]) for i in range(0, len(nums) - 1, 2)]
    for kid in node.get(Name.Kids, []):
        pairs += _number_tree(kid)
    return pairs


def _resolve_links(base: Any, dests: Any) -> list[str]:
    from pikepdf import Name, String

    missing: list[str] = []
    for page in base.pages:
        for annotation in page.obj.get(Name.Annots, []):
            action = annotation.get(Name.A)
            if action is None or action.get(Name.S) != Name.URI:
                continue
            uri = str(action.URI)
            if not uri.startswith(INTERNAL):
                continue
            target = unquote(uri[len(INTERNAL):])
            del annotation.A
            annotation.Contents = String(target)
            if target in dests:
                annotation.Dest = String(target)
            elif target not in missing:
                missing.append(target)
    return [f"No anchor #{name} for internal URI reference" for name in missing]


def _bookmark_tree(bookmarks: Sequence[Bookmark]) -> list[Any]:
    """Nest ``(page, level, label, x, y, state)`` as WeasyPrint nests one document's bookmarks:
    by ``bookmark-level``, skipped levels not making empty entries."""
    root: list[Any] = []
    skipped: list[int] = []
    last_by_depth = [root]
    previous = 0
    for page, level, label, x, y, state in bookmarks:
        if level > previous:
            skipped.append(level - previous - 1)
        else:
            temp = level
            while temp < previous:
                temp += 1 + skipped.pop()
            if temp > previous:
                skipped.append(temp - previous - 1)
        previous = level
        depth = level - sum(skipped)
        children: list[Any] = []
        last_by_depth[depth - 1].append((label, page, x, y, state, children))
        del last_by_depth[depth:]
        last_by_depth.append(children)
    return root


def _write_outline(base: Any, tree: list[Any]) -> None:
    from pikepdf import Dictionary, Name

    if not tree:
        if Name.Outlines in base.Root:
            del base.Root.Outlines
        return
    root = base.make_indirect(Dictionary(Type=Name.Outlines))
    first, last, count = _outline_items(base, tree, root)
    root.First, root.Last, root.Count = first, last, count
    base.Root.Outlines = root


def _outline_items(base: Any, nodes: list[Any], parent: Any) -> tuple[Any, Any, int]:
    from pikepdf import Array, Dictionary, Name, String

    items: list[Any] = []
    count = len(nodes)
    for label, page, x, y, state, children in nodes:
        item = base.make_indirect(Dictionary(
            Title=String(label), Parent=parent,
            Dest=Array([base.pages[page].obj, Name.XYZ, x, y, 0]),
        ))
        first, last, below = _outline_items(base, children, item)
        if first is not None:
            item.First, item.Last = first, last
        item.Count = -below if state == "closed" else below
        if state != "closed":
            count += below
        if items:
            item.Prev = items[-1]
            items[-1].Next = item
        items.append(item)
    return (items[0], items[-1], count) if items else (None, None, 0)


def _stamp_numbers(base: Any, numbers: Any) -> None:
    """Lay page *i* of ``numbers`` over page *i*, as a pagination artifact."""
    from pikepdf import Dictionary, Name, Stream

    if len(numbers.pages) != len(base.pages):
        raise InternalError(f"{len(numbers.pages)} page numbers laid out for {len(base.pages)} pages")
    overlay = (b"\nQ\n/Artifact <</Type /Pagination /Subtype /Footer>> BDC\nq "
               + NUMBER_XOBJECT.encode() + b" Do Q\nEMC\n")
    for page, numbered in zip(base.pages, numbers.pages, strict=True):
        form = base.copy_foreign(numbered.as_form_xobject())
        resources = Dictionary(dict(page.obj.get(Name.Resources, Dictionary()).items()))
        xobjects = Dictionary(dict(resources.get(Name.XObject, Dictionary()).items()))
        xobjects[NUMBER_XOBJECT] = form
        resources.XObject = xobjects
        page.obj.Resources = resources
        page.contents_add(Stream(base, b"q\n"), prepend=True)
        page.contents_add(Stream(base, overlay))
