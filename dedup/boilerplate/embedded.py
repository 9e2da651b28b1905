"""«إقرأ أيضاً:» / "Read also" followed by a whole second article.

A read-also marker is an *appended article* (split it out) when it follows an end-of-article
signal (source / tags / wire-control line) or when the headline after it re-appears later in
the page (a related list), and it is followed by a headline and at least two prose paragraphs.
Otherwise it is an inline teaser: the marker and its one headline are dropped and the article
goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

from .lines import READ_ALSO, Line

END_SIGNALS = ("source", "tags", "wire_control")
REGION_END = ("comments", "related_header", "copyright")


@dataclass
class Appended:
    """Where an appended article sits, as line indices of the parent."""

    marker: int            # read-also marker line
    first: int             # first line of the child (its headline); may equal marker
    head_offset: int       # char offset where the child starts
    region_end: int        # first line after the child's region (terminator or len(lines))
    marker_text: str


def is_marker_only(ln: Line) -> bool:
    return ln.kind == "read_also" and (ln.key in READ_ALSO or not ln.value.strip())


def find_appended(lines: list[Line]) -> Appended | None:
    """First read-also marker that introduces a whole appended article, if any."""
    n = len(lines)
    for i, ln in enumerate(lines):
        if ln.kind != "read_also":
            continue
        if is_marker_only(ln):
            j = i + 1
            while j < n and lines[j].blank:
                j += 1
            if j >= n or not lines[j].headline or lines[j].words < 2 or lines[j].kind is not None:
                continue
            head_key = lines[j].key
            first, offset = j, lines[j].start
        else:
            vpos = ln.text.find(ln.value) if ln.value else -1
            if vpos < 0 or ln.words < 3:
                continue
            head_key = None
            first, offset = i, ln.start + vpos
        k = first + 1
        prose = 0
        while k < n:
            x = lines[k]
            if x.kind in REGION_END and x.words <= 8:
                break
            if x.kind == "read_also" and is_marker_only(x) and prose >= 2:
                break
            if x.prose:
                prose += 1
            k += 1
        if prose < 2:
            continue
        before = [x for x in lines[:i] if not x.blank]
        if not any(x.prose for x in before):
            continue
        end_signal = any(x.kind in END_SIGNALS for x in before[-8:])
        dup_later = head_key is not None and any(x.key == head_key for x in lines[k:])
        if end_signal or dup_later:
            return Appended(i, first, offset, k, ln.s)
    return None
