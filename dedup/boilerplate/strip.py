"""Orchestration: find the article in a full-page text dump and cut the rest.

Steps
1. Split into lines (offsets into the original text); classify each line by lexicon and shape
   (:mod:`lines`), and mark the source's learned template lines.
2. Find an appended «إقرأ أيضاً» / "Read also" article (:mod:`embedded`); the main article ends
   at its marker; the child is split out (or dropped / kept).
3. Locate the main text block: maximum-sum run of line scores (prose lines score their length;
   headline-shaped, bulleted, lexicon and template lines score negative). Repeated teaser units
   (headline, lone summary, headline, …) count less when the run is chosen; the page's repeated
   headline and the lead after a byline / date line count more.
4. Lines before the block (header) and after it (footer) are cut when that region looks like
   page chrome (≥3 lines, bullets, or lexicon lines); otherwise only lexicon lines are cut, so a
   clean article comes back unchanged, and a text in which no prose line would survive (a stub, a
   lone widget line) is left whole.
5. Inside the block: lexicon/template lines, duplicate headline-shaped lines, comment / related
   sections after the article's prose, read-also teasers, glued widget headers and inline
   related-headline runs are cut. A related-list header after half of the prose ends the article
   unless unbulleted paragraphs resume after its list (a widget inside the text: only the header
   and its list are cut).

Title convention: the headline (the last headline-shaped line of the page header, or a first
line that is duplicated) is reported as ``Stripped.title`` and is CUT from the body with kind
``"title"`` (copies: ``"title_duplicate"``), matching the benchmark golds, which exclude it.
A removed line's cut includes its newline; blank lines next to removed lines are removed with
them, so ``reconstruct(body, cuts) == text`` and the body does not collect blank lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import pairwise

from dedup.collection import collector_paused
from dedup.model import Cut, Document, Stripped

from . import embedded as _emb
from .lines import (
    RELATED_NOUNS,
    Line,
    agencies_in,
    classify,
    code_span,
    inline_related_span,
    split_lines,
    split_lines_many,
)
from .templates import Templates

HARD = {"legal", "trailer", "source", "tags", "date", "byline", "comments", "read_also", "related_header", "read_more",
        "ad", "social", "copyright", "caption", "wire_control", "template", "navigation"}
# kinds cut wherever they appear (navigation only in page dumps)
ALWAYS = {"legal", "trailer", "source", "tags", "date", "byline", "ad", "social", "copyright", "caption",
          "wire_control", "template", "read_more"}
# kinds cut in text that does not look like a page dump (clean article text)
CLEAN = {"source", "trailer", "tags", "comments", "related_header", "read_also", "copyright", "ad", "social",
         "template", "read_more", "wire_control", "byline", "date"}
# kinds that show a page dump (menus, widgets, footers)
PAGE_KINDS = {"navigation", "social", "comments", "related_header", "copyright", "ad", "template", "read_more"}
KIND_NAME = {"related_header": "related_list", "read_also": "read_more"}


def reconstruct(body: str, cuts: Sequence[Cut]) -> str:
    """Rebuild the input from a body and its cuts (cuts sorted, offsets into the input)."""
    out = []
    pos = 0  # position in body
    at = 0   # position in original
    for c in sorted(cuts, key=lambda c: c.start):
        take = c.start - at
        out.append(body[pos:pos + take])
        pos += take
        out.append(c.text)
        at = c.end
    out.append(body[pos:])
    return "".join(out)


PROSE_OFFSET = 0.0


def _weight(ln: Line) -> float:
    if ln.blank:
        return 0.0
    if ln.kind in HARD:
        return -60.0
    if ln.prose:
        return float(len(ln.s)) - PROSE_OFFSET
    if ln.term and ln.words >= 3:
        return 0.5 * len(ln.s)
    if ln.bullet:
        return -(40.0 + 0.3 * len(ln.s))
    return -(20.0 + 0.3 * len(ln.s))


TEASER_WEIGHT = 0.25


def _lone_paragraphs(lines: list[Line], nb: list[int]) -> set[int]:
    """Paragraphs standing alone between two unlabelled headline-shaped lines (headline, summary,
    headline, …): the unit of a teaser list. Article paragraphs come in runs. ``nb``: the
    non-blank lines to look at."""

    def head(k: int) -> bool:
        if not 0 <= k < len(nb):
            return False
        x = lines[nb[k]]
        return x.headline and x.kind is None and x.words >= 2

    lone = [k for k, i in enumerate(nb) if lines[i].prose and head(k - 1) and head(k + 1)]
    if not any(lines[i].prose and lines[j].prose for i, j in pairwise(nb)):
        return set()  # no run of paragraphs anywhere: a listing page, the teasers are its content
    # a unit repeats in a teaser list: another lone paragraph at most three lines away
    return {nb[k] for p, k in enumerate(lone)
            if (p > 0 and k - lone[p - 1] <= 3) or (p + 1 < len(lone) and lone[p + 1] - k <= 3)}


def _max_run(w: list[float], lo: int, hi: int) -> tuple[int, int] | None:
    """Maximum-sum run of the weights ``w`` of lines ``lo``…``hi - 1``, as (first, last) line
    indices, or None when no weight is positive."""
    best = cur = 0.0
    cs = 0
    rng = None
    for i in range(hi - lo):
        if cur <= 0.0:
            if w[i] <= 0.0:
                continue
            cur = 0.0
            cs = i
        cur += w[i]
        if cur > best:
            best = cur
            rng = (lo + cs, lo + i)
    return rng


HEAD_WEIGHT = 150.0


def _repeated_headline(lines: list[Line], nb: list[int]) -> int | None:
    """The page's own headline: the first unlabelled headline-shaped line that recurs elsewhere on
    the page (breadcrumb, share text, «Comments on …», a related list) and is followed by a
    paragraph within three lines. ``nb``: the non-blank lines to look at."""
    joined = "\n".join(lines[i].key for i in nb)
    for k, i in enumerate(nb):
        x = lines[i]
        if (x.kind is None and x.headline and not x.bullet and 3 <= x.words <= 25
                and any(lines[j].prose and lines[j].kind is None for j in nb[k + 1:k + 4])
                and joined.count(x.key) >= 2):
            return i
    return None


def _dated_lead(lines: list[Line], nb: list[int]) -> int | None:
    """The first unlabelled paragraph right after a byline or date line (within two lines): the
    lead of the article that the byline / date heads."""
    for k, i in enumerate(nb):
        x = lines[i]
        if x.prose and x.kind is None and any(lines[j].kind in ("byline", "date") for j in nb[max(0, k - 2):k]):
            return i
    return None


def _best_block(lines: list[Line], lo: int, hi: int, demoted: set[int] = frozenset()) -> tuple[int, int] | None:
    """The main text block: the maximum-sum run of line weights. The run is chosen with lone
    paragraphs (teaser units) weighing ``TEASER_WEIGHT`` of their length and with article-head
    evidence (the page's repeated headline, the lead after a byline / date line) adding
    ``HEAD_WEIGHT``; it is then extended on both sides with full weights, so a teaser list does
    not outweigh a short article but the article's own lone paragraphs stay in it. The block
    starts after the headline."""
    w = [_weight(lines[i]) if i not in demoted else -(20.0 + 0.3 * len(lines[i].s)) for i in range(lo, hi)]
    nb = [i for i in range(lo, hi) if lines[i].s]
    title = _repeated_headline(lines, nb)
    if title is not None:
        w[title - lo] = HEAD_WEIGHT
    lead = _dated_lead(lines, nb)
    if lead is not None and lead not in demoted:
        w[lead - lo] += HEAD_WEIGHT
    lone = _lone_paragraphs(lines, nb)
    core = _max_run([x * TEASER_WEIGHT if lo + k in lone and x > 0 else x for k, x in enumerate(w)], lo, hi)
    if core is None:
        return None
    a, b = core
    a, b = a - _best_prefix(reversed(w[:a - lo])), b + _best_prefix(w[b - lo + 1:])
    if a == title:
        a = next((i for i in range(a + 1, b + 1) if w[i - lo] > 0), a)
    return a, b


def _best_prefix(ws: Iterable[float]) -> int:
    """Length of the prefix of ``ws`` with the largest positive sum (0 when none is positive)."""
    best = acc = 0.0
    n = 0
    for k, x in enumerate(ws, 1):
        acc += x
        if acc > best:
            best, n = acc, k
    return n


def _is_dump(region: list[Line]) -> bool:
    nb = [x for x in region if not x.blank]
    if len(nb) >= 3:
        return True
    return any(x.bullet or x.kind is not None for x in nb)


def strip(text: str, source: str | None = None, lang: str | None = None, templates: Templates | None = None,
          doc_id: str | None = None, embedded: str = "split") -> Stripped:
    """Strip portal chrome from a plain-text page dump.

    Returns a :class:`Stripped` whose ``body`` is ``text`` with the ``cuts`` removed (original
    characters, paragraphs kept). ``title`` is the detected headline; it is cut from the body
    (kind ``"title"``). ``embedded``: ``"split"`` (cut an appended read-also article and return
    it in ``children``), ``"drop"`` (cut only) or ``"keep"`` (leave it in the body).
    ``templates`` are the per-source template lines from :func:`learn_templates`.
    """
    _check_embedded(embedded)
    return _strip(text, split_lines(text), source, lang, templates, doc_id, embedded)


@collector_paused()
def strip_many(documents: Sequence[Document], lang: str | None = None, templates: Templates | None = None,
               embedded: str = "split") -> list[Stripped]:
    """:func:`strip` of each document (its ``text``, ``source`` and ``id``), in order: the
    same results, with the lines of all the documents read in one pass."""
    _check_embedded(embedded)
    lines = split_lines_many([d.text for d in documents])
    return [_strip(d.text, ls, d.source, lang, templates, d.id, embedded) for d, ls in zip(documents, lines)]


def _check_embedded(embedded: str) -> None:
    if embedded not in ("split", "drop", "keep"):
        raise ValueError(f"embedded must be 'split', 'drop' or 'keep', not {embedded!r}")


def _strip(text: str, lines: list[Line], source: str | None, lang: str | None, templates: Templates | None,
           doc_id: str | None, embedded: str) -> Stripped:
    """:func:`strip` of ``text``, whose lines are ``lines``."""
    n = len(lines)
    tset = templates.for_source(source) if templates is not None else frozenset()
    for ln in lines:
        if ln.s:
            classify(ln)
            if tset and ln.kind is None and ln.key in tset:
                ln.kind, ln.reason = "template", f"template line of {source}"
    label: list[tuple[str, str] | None] = [None] * n
    keep_lines: set[int] = set()
    children: list[Document] = []
    subcuts: list[tuple[int, int, str, str]] = []

    def cut(i: int, kind: str, reason: str) -> None:
        if label[i] is None and i not in keep_lines:
            label[i] = (KIND_NAME.get(kind, kind), reason)

    # ---- 2. appended article
    main_end = n
    app = _emb.find_appended(lines)
    child_end_line = None
    if app is not None:
        main_end = app.marker
        region = lines[app.first:app.region_end]
        sub_start = app.head_offset
        sub_stop = region[-1].stop
        child_text = text[sub_start:sub_stop]
        cs = strip(child_text, source=source, lang=lang, templates=templates, embedded="drop")
        kept_end = _last_kept(child_text, cs.cuts)
        child_abs_end = sub_start + kept_end
        # lines of the child
        child_end_line = app.first
        for x in region:
            if x.start < child_abs_end:
                child_end_line = x.i
        if embedded == "keep":
            for i in range(app.marker, child_end_line + 1):
                keep_lines.add(i)
        else:
            cut(app.marker, "embedded", f"read-also marker «{app.marker_text[:30]}» followed by a whole article")
            for i in range(app.marker + 1, child_end_line + 1):
                cut(i, "embedded", "appended article after read-also marker")
            if embedded == "split":
                k = len(children) + 1
                children.append(Document(
                    id=f"{doc_id or 'doc'}#embedded-{k}", text=text[sub_start:child_abs_end], source=source,
                    meta={"parent_id": doc_id, "start": sub_start, "end": child_abs_end,
                          "marker": app.marker_text}))
        # everything after the child: the page's trailing chrome
        _cut_tail(lines, child_end_line + 1, n, cut)

    # ---- 3. main block: page dumps get block detection; clean text only high-confidence rules
    body_lines = lines[:main_end]
    page_score = sum(1 for x in body_lines if x.kind in PAGE_KINDS)
    first_prose = next((x.i for x in body_lines if x.prose), main_end)
    page_score += sum(1 for x in lines[:first_prose] if x.bullet and x.headline) >= 5
    dump = page_score >= 2
    blk = _best_block(lines, 0, main_end) if dump else None
    if blk is not None:
        teasers = _teaser_lines(lines, blk[0], blk[1])
        if teasers:
            blk = _best_block(lines, 0, main_end, teasers) or blk
    nb = [x.i for x in body_lines if not x.blank]
    if blk is None:
        dump = False
        first_prose = next((x.i for x in body_lines if x.prose), None)
        blk = (first_prose if first_prose is not None else (nb[0] if nb else 0), nb[-1] if nb else -1)
        head_dump = tail_dump = False
    else:
        blk = (blk[0], _extend_colon_list(lines, blk[1], main_end))
        head_dump = _is_dump(lines[:blk[0]])
        tail_dump = _is_dump(lines[blk[1] + 1:main_end])
    a, b = blk
    cuttable = ALWAYS if dump else CLEAN
    # a byline/credit line is cut in clean text only next to other header chrome (title, date label)
    head_chrome = any(x.kind == "date" and x.reason.startswith("label") for x in lines[:a])
    hn = [x for x in lines[:a] if x.s]
    if len(hn) >= 2 and hn[0].kind is None and hn[0].headline and hn[1].kind == "byline":
        head_chrome = True

    def chrome(x: Line) -> bool:
        if x.kind is None:
            return False
        if dump:
            return True
        if x.kind == "date":
            return x.reason.startswith("label")
        if x.kind == "byline":
            return head_chrome
        return x.kind in CLEAN

    # ---- title
    title = None
    title_key = None
    ti = None
    head = [x for x in lines[:a] if not x.blank] if a > 0 else []
    if head_dump:
        for x in reversed(head):
            if x.kind in ("date", "byline", "caption", "social", "ad", "template", "source", "tags"):
                continue
            if x.kind is None and not x.bullet and 2 <= x.words <= 40 and not x.prose:
                ti = x.i
            break
    elif head:
        x = head[0]
        if x.kind is None and 2 <= x.words <= 40 and not x.prose and not x.bullet:
            nxt = head[1] if len(head) > 1 else None
            if any(y.key == x.key for y in lines[x.i + 1:main_end] if y.s) or (
                    nxt is not None and chrome(nxt) and nxt.kind in ("date", "byline")):
                ti = x.i
    if ti is not None:
        title = lines[ti].s
        title_key = lines[ti].key
        cut(ti, "title", "headline before the article text")

    # ---- 4. header
    for x in lines[:a]:
        if x.blank:
            continue
        if title_key is not None and x.key == title_key:
            cut(x.i, "title_duplicate", "copy of the headline")
        elif chrome(x):
            cut(x.i, x.kind, x.reason)
        elif head_dump:
            cut(x.i, "navigation", "page header before the article text")

    # ---- 5. inside the block
    prose_total = sum(len(x.s) for x in lines[a:b + 1] if x.prose)
    prose_seen = 0
    seen_keys = {x.key for x in lines[:a] if x.s}
    i = a
    while i <= b:
        x = lines[i]
        if x.blank:
            i += 1
            continue
        if x.prose:
            prose_seen += len(x.s)
        k = x.kind
        if k in ("comments", "related_header") and x.words <= 8 and prose_seen > 0:
            if prose_seen >= 0.5 * prose_total and not (k == "related_header" and _prose_resumes(lines, i, b)):
                # end of the article: the rest of the block is the widget/comments section
                name = "comments" if k == "comments" else "related_list"
                cut(i, name, x.reason + " (end of article)")
                for j in range(i + 1, b + 1):
                    if lines[j].s:
                        cut(j, lines[j].kind if lines[j].kind in cuttable else name, f"after «{x.s[:30]}» header")
                break
            cut(i, k, x.reason)
            j = i + 1
            while j <= b and not lines[j].prose:
                if lines[j].s:
                    cut(j, "related_list", f"list after «{x.s[:30]}» header")
                j += 1
            i = j
            continue
        if k == "read_also":
            cut(i, "related_inline", "read-also teaser " + x.reason)
            if _emb.is_marker_only(x):
                j = i + 1
                while j <= b and lines[j].blank:
                    j += 1
                if j <= b and lines[j].headline:
                    cut(j, "related_inline", "headline of read-also teaser")
                    i = j
        elif chrome(x) and (dump or k != "date"):
            cut(i, k, x.reason)
        elif title_key is not None and x.key == title_key:
            cut(i, "title_duplicate", "copy of the headline")
        elif dump and x.headline and x.words >= 2 and x.key in seen_keys and not _ends_colon(x):
            cut(i, "artifact", "duplicate line in document")
        elif k is None and (sp := code_span(x)) is not None:
            subcuts.append((x.start + sp[0], x.start + sp[1], "code", sp[2]))
        elif k is None and x.words >= 3:
            sp = inline_related_span(x)
            if sp is not None:
                subcuts.append((x.start + sp[0], x.start + sp[1],
                                "related_inline" if "timestamp" in sp[2] else "widget_header", sp[2]))
        seen_keys.add(x.key)
        i += 1
    if dump:
        _cut_headline_runs(lines, a, b, label, cut)

    # ---- footer
    if b + 1 < main_end:
        if tail_dump:
            _cut_tail(lines, b + 1, main_end, cut)
        else:
            for x in lines[b + 1:main_end]:
                if x.s and chrome(x) and (dump or x.kind != "date"):
                    cut(x.i, x.kind, x.reason)

    if not dump:
        _cap_soft_cuts(lines, label)
        _give_back_stub(lines, label)

    # ---- blank lines go with their removed neighbours
    _attach_blanks(lines, label)
    cuts = _build_cuts(text, lines, label, subcuts)
    body = _body(text, cuts)
    meta = _meta(lines, label, title, lang)
    return Stripped(body=body, title=title, cuts=tuple(cuts), children=tuple(children), meta=meta)


SOFT_CAP = 0.10
# shape-based cuts (no label, no lexicon header) that are given back
_SOFT_ORDER = (("byline", "caption", "date"),)


def _cap_soft_cuts(lines: list[Line], label: list) -> None:
    """A clean article (no chrome but its headline and shape-based credit / byline / caption
    lines) should not lose more than ``SOFT_CAP`` of its characters: when it would, the
    shape-based cuts are given back (label lines stay cut)."""
    total = sum(len(x.s) for x in lines)
    if not total or not any(label):
        return

    def removed() -> int:
        return sum(len(x.s) for x in lines if label[x.i] is not None)

    # only text whose every cut is the headline or a shape-based line (nothing else is chrome)
    for x in lines:
        lab = label[x.i]
        if lab is not None and lab[0] not in ("title", "title_duplicate", "byline", "caption", "date"):
            return

    for kinds in _SOFT_ORDER:
        if removed() <= SOFT_CAP * total:
            return
        for x in lines:
            lab = label[x.i]
            if lab is not None and lab[0] in kinds and not lab[1].startswith("label"):
                label[x.i] = None


def _give_back_stub(lines: list[Line], label: list) -> None:
    """Text that is not a page dump is left whole when no prose line would survive its cuts: it
    is a stub or a lone widget line («تعليقات ()»), not an article with chrome around it, and
    cutting it would lose the whole document. An appended article that was split off is still cut."""
    if any(lab is not None and lab[0] == "embedded" for lab in label):
        return
    if not any(x.prose and label[x.i] is None for x in lines):
        for x in lines:
            label[x.i] = None


def _prose_resumes(lines: list[Line], i: int, b: int) -> bool:
    """After the related-list header at ``i``, does the article resume (a widget inserted in the
    middle of the text)? True when, past the list that follows the header, the rest of the block
    up to ``b`` is mostly paragraphs (≥60 % of its characters) with a run of ≥3 consecutive
    unbulleted paragraphs (teaser widgets alternate headline / summary, news tickers are
    bulleted) and no comment section."""

    def para(x: Line) -> bool:
        return x.prose and x.kind is None and not x.bullet

    j = i + 1
    while j <= b and not para(lines[j]):
        j += 1
    rest = [x for x in lines[j:b + 1] if x.s]
    if any(x.kind == "comments" for x in rest):
        return False
    longest = cnt = 0
    for x in rest:
        if x.kind == "ad" and x.words <= 3:
            continue  # an ad slot between paragraphs does not break the run
        cnt = cnt + 1 if para(x) else 0
        longest = max(longest, cnt)
    return longest >= 3 and sum(len(x.s) for x in rest if para(x)) >= 0.6 * sum(len(x.s) for x in rest)


def _is_counter(x: Line) -> bool:
    """A line of numbers only (view / comment counters, scores, dates without words)."""
    return x.words <= 6 and not any(c.isalpha() for c in x.s)


def _teaser_lines(lines: list[Line], a: int, b: int) -> set[int]:
    """Paragraph lines of teaser runs (related-story widgets) after the article core in [a, b].

    The core is the block's largest run of consecutive paragraphs (at least two). After it, a
    *teaser unit* is a short headline-shaped line (with optional date / counter lines) followed
    by a single paragraph and then by another short line. Runs of at least two consecutive
    units, two of which carry widget evidence (a date or counter line, a truncated «…»
    paragraph), are teasers; their paragraphs are returned.
    """
    seq = [x for x in lines[a:b + 1] if x.s]
    segs: list[list[int]] = []   # runs of consecutive prose lines, as positions in seq
    for p, x in enumerate(seq):
        if x.prose and x.kind is None:
            if segs and segs[-1][-1] == p - 1:
                segs[-1].append(p)
            else:
                segs.append([p])
    out: set[int] = set()
    if len(segs) < 3:
        return out
    sizes = [sum(len(seq[p].s) for p in sg) for sg in segs]
    core = max(range(len(segs)), key=sizes.__getitem__)
    if len(segs[core]) < 2:
        return out
    run: list[int] = []
    evidence = 0

    def flush() -> None:
        if len(run) >= 2 and evidence >= 2:
            out.update(seq[segs[r][0]].i for r in run)

    for j in range(core + 1, len(segs)):
        sg = segs[j]
        gap = seq[segs[j - 1][-1] + 1:sg[0]]
        unit = (len(sg) == 1 and bool(gap) and sg[-1] + 1 < len(seq)
                and all(g.words <= 20 for g in gap)
                and any(g.kind is None and g.headline and g.words >= 2 for g in gap))
        if not unit:
            flush()
            run, evidence = [], 0
            continue
        run.append(j)
        evidence += (any(g.kind == "date" or _is_counter(g) for g in gap)
                     or seq[sg[0]].s.endswith(("...", "…")))
    flush()
    return out


def _cut_tail(lines: list[Line], lo: int, hi: int, cut) -> None:
    section = None
    for x in lines[lo:hi]:
        if x.blank:
            continue
        if x.kind in ("comments", "related_header") and x.words <= 8:
            section = "comments" if x.kind == "comments" else "related_list"
            cut(x.i, section, x.reason)
        elif x.kind is not None:
            cut(x.i, x.kind, x.reason)
        else:
            kind = section or ("related_list" if x.headline else "navigation")
            cut(x.i, kind, "page footer after the article text")


def _ends_colon(x: Line) -> bool:
    """An unlabelled line ending with a colon that can introduce a list of the article (not a
    heading naming other content: «More stories from X:», «Links:»)."""
    return (x.cont and x.s.rstrip(_CLOSE)[-1:] in (":", "：") and x.kind is None
            and not (x.words <= 12 and RELATED_NOUNS.intersection(x.key.split())))


_CLOSE = "\"'»”’)]›\u00a0 \t*"


def _list_item(x: Line) -> bool:
    """A short unlabelled line that can be an item of a list (not a paragraph of prose)."""
    return x.kind is None and x.words <= 30 and (x.bullet or not (x.prose and x.term))


def _colon_list_end(lines: list[Line], j: int, hi: int) -> int | None:
    """Last line of the list introduced by the colon line ``j`` (≥3 items, single blank lines
    between items allowed), or None. After a short colon heading («Links:», «Also in this
    section:», a related-links header the lexicon does not know) the items must be bulleted or
    numbered (≥ half of them): plain headline lists there are widgets."""
    last = None
    items = bullets = 0
    blanks = 0
    for x in lines[j + 1:hi]:
        if x.blank:
            blanks += 1
            if blanks >= 2:
                break  # a gap (a media slot, a widget) between the colon and the list, or after it
            continue
        blanks = 0
        if not _list_item(x):
            break
        items += 1
        bullets += x.bullet
        last = x.i
    if items < 3 or (lines[j].words < 6 and 2 * bullets < items):
        return None
    return last


def _extend_colon_list(lines: list[Line], b: int, hi: int) -> int:
    """A list that an article line ending with a colon introduces («tour dates:», «here are the
    deals:») belongs to the article: the block is extended over it. The colon line is the last
    line of the block or a short heading right after it."""
    last = next((x for x in reversed(lines[:b + 1]) if x.s), None)
    if last is None:
        return b
    j = None
    if _ends_colon(last):
        j = last.i
    else:
        nxt = next((x for x in lines[b + 1:hi] if x.s), None)
        if nxt is not None and nxt.words <= 8 and _ends_colon(nxt):
            j = nxt.i
    if j is None:
        return b
    end = _colon_list_end(lines, j, hi)
    return b if end is None else end


def _cut_headline_runs(lines, a, b, label, cut) -> None:
    """Runs of ≥3 bulleted headline-shaped lines inside the block of a page dump, unless an
    article line ending with a colon introduces the run (a list of the article)."""
    run: list[int] = []

    def flush():
        if len(run) >= 3 and sum(lines[j].bullet for j in run) >= 2:
            prev = next((x for x in reversed(lines[a:run[0]]) if x.s), None)
            if prev is not None and _ends_colon(prev) and label[prev.i] is None:
                run.clear()
                return
            for j in run:
                cut(j, "related_list", "run of bulleted headline-shaped lines")
        run.clear()

    for i in range(a, b + 1):
        x = lines[i]
        if x.blank:
            continue
        if x.headline and label[i] is None and not _ends_colon(x):
            run.append(i)
        else:
            flush()
    flush()


def _attach_blanks(lines: list[Line], label: list) -> None:
    """A blank line goes with the next non-blank line when that is cut; trailing blanks and
    blanks before the first kept line go with the previous cut line."""
    n = len(lines)
    nonblank = [i for i in range(n) if lines[i].s]
    if not nonblank:
        return
    first_kept = next((i for i in nonblank if label[i] is None), n)
    prev_lab = None
    nxt_idx = [None] * n
    j = None
    for i in range(n - 1, -1, -1):
        nxt_idx[i] = j
        if lines[i].s:
            j = i
    for i in range(n):
        if lines[i].s:
            prev_lab = label[i]
            continue
        if label[i] is not None:
            continue
        nj = nxt_idx[i]
        if nj is not None and label[nj] is not None:
            label[i] = label[nj]
        elif prev_lab is not None and (nj is None or i < first_kept):
            label[i] = prev_lab


def _build_cuts(text, lines, label, subcuts) -> list[Cut]:
    spans: list[tuple[int, int, str, str]] = []
    i = 0
    n = len(lines)
    while i < n:
        if label[i] is None:
            i += 1
            continue
        kind, reason = label[i]
        j = i
        nlines = 1 if lines[i].s else 0
        while j + 1 < n and label[j + 1] is not None and label[j + 1][0] == kind:
            j += 1
            if lines[j].s:
                nlines += 1
                if not lines[i].s and reason == label[i][1]:
                    reason = label[j][1]
        first_reason = next((label[k][1] for k in range(i, j + 1) if lines[k].s), reason)
        if nlines > 1:
            first_reason += f" (+{nlines - 1} lines)"
        spans.append((lines[i].start, lines[j].stop, kind, first_reason))
        i = j + 1
    spans.extend(subcuts)
    spans.sort()
    return [Cut(s, e, k, r, text[s:e]) for s, e, k, r in spans if e > s]


def _body(text: str, cuts: list[Cut]) -> str:
    out = []
    pos = 0
    for c in cuts:
        out.append(text[pos:c.start])
        pos = c.end
    out.append(text[pos:])
    return "".join(out)


def _last_kept(text: str, cuts: Sequence[Cut]) -> int:
    """Offset just after the last kept non-space character."""
    pos = len(text)
    for c in sorted(cuts, key=lambda c: -c.start):
        seg = text[c.end:pos]
        if seg.strip():
            return c.end + len(seg.rstrip())
        pos = c.start
    seg = text[:pos]
    return len(seg.rstrip())


def _split_values(v: str, seps: str) -> list[str]:
    import re as _re
    parts = [p.strip(" .\u00a0") for p in _re.split("[" + _re.escape(seps) + "]", v)]
    return [p for p in parts if p]


def _meta(lines: list[Line], label: list, title: str | None, lang: str | None) -> dict:
    meta: dict = {"source_chain": [], "tags": [], "date": None, "byline": None, "agencies": [],
                  "truncated": False}
    agencies: list[str] = []
    for x in lines:
        if not x.s or label[x.i] is None:
            continue
        k = label[x.i][0]
        if k == "embedded":
            continue
        if x.kind == "source" and x.value:
            meta["source_chain"].extend(_split_values(x.value, "+/،,|"))
            agencies.extend(agencies_in(x.value))
        elif x.kind == "tags" and x.value:
            meta["tags"].extend(_split_values(x.value, ",،|;") or [x.value])
        elif x.kind == "date" and meta["date"] is None:
            meta["date"] = x.value or x.s
            agencies.extend(agencies_in(x.s))
        elif x.kind == "byline":
            if meta["byline"] is None:
                meta["byline"] = x.value or x.s
            agencies.extend(agencies_in(x.s))
        elif x.kind in ("read_more",) and x.i > len(lines) // 2:
            meta["truncated"] = True
    meta["agencies"] = list(dict.fromkeys(agencies))
    if lang:
        meta["lang"] = lang
    return meta
