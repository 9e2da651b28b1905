"""Single-document line features and line rules.

A document is split into :class:`Line` records (offsets into the original text, never a
normalised copy). Each line gets shape features (words, terminal punctuation, bullet, prose)
and, when it matches the lexicon or a shape regex, a chrome ``kind`` with a reason.
Matching uses :func:`norm_key`, an Arabic-aware key (CCNet-style: digits -> 0, punctuation
removed) that is used for lookups only.
"""

from __future__ import annotations

import re as stdlib_re  # faster than regex on a long literal alternation
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Sequence

import numpy as np
import regex as re

from .. import kernels
from ..normalize import code_points, normalize, normalize_many
from .lexicon import LEXICON

# ---------------------------------------------------------------- normalisation

_DIGITS = re.compile(r"[0-9]+")  # the digits of a normalized key are ASCII
KEY_CHARS = 240  # a line is matched by the key of its first KEY_CHARS characters
PHRASE_WORDS = 60  # longer lines are paragraphs, never a post trailer or a comment form


def norm_key(s: str) -> str:
    """Matching key: the hashing key of :func:`dedup.normalize.normalize` with digit runs -> 0."""
    return _DIGITS.sub("0", normalize(s))


def norm_keys(strings: list[str]) -> list[str]:
    """:func:`norm_key` of many strings at once, through the compiled normalizer (which
    folds the digit runs itself)."""
    return normalize_many(strings, fold_digits=True)


# ---------------------------------------------------------------- lexicon tables

_WHOLE_PRIORITY = ("wire_control", "comments", "read_also", "related_header", "read_more", "ad", "social",
                   "copyright", "caption", "source", "tags", "date", "byline", "navigation")
_LABEL_PRIORITY = ("source", "tags", "date", "byline", "read_also", "related_header", "caption", "comments",
                   "read_more", "copyright", "social", "ad", "wire_control")
_PREFIX_KINDS = ("comments", "related_header", "read_more", "ad", "social", "copyright", "caption")

WHOLE: dict[str, str] = {}
LABEL: dict[str, str] = {}
PREFIX: dict[str, list[tuple[str, str]]] = {}
MONTHS: set[str] = set()
DATE_AUX: set[str] = set()
AGENCIES: dict[str, str] = {}
INLINE_RELATED: list[str] = []
READ_ALSO: set[str] = set()
BYLINE_WORDS: set[str] = set()
LEGAL: list[str] = []
PHRASES: dict[str, str] = {}  # trailer / comment-form phrase -> line kind
_PHRASE_KIND = {"trailer": "trailer", "comment_form": "comments"}
RELATED_NOUNS: set[str] = set()


def _build() -> None:
    for kind in reversed(_WHOLE_PRIORITY):
        for table in LEXICON.values():
            for p in table.get(kind, ()):
                WHOLE[norm_key(p)] = kind
    for kind in reversed(_LABEL_PRIORITY):
        for table in LEXICON.values():
            for p in table.get(kind, ()):
                LABEL[norm_key(p)] = kind
    for kind in _PREFIX_KINDS:
        for table in LEXICON.values():
            for p in table.get(kind, ()):
                k = norm_key(p)
                if " " in k or kind == "copyright":
                    PREFIX.setdefault(k.split(" ", 1)[0], []).append((k, kind))
    for table in LEXICON.values():
        for p in table.get("months", ()):
            MONTHS.update(norm_key(p).split())
        for p in table.get("date_words", ()):
            DATE_AUX.update(norm_key(p).split())
        for p in table.get("agencies", ()):
            name, _, canon = p.partition("=")
            AGENCIES[norm_key(name)] = canon or name
        for p in table.get("inline_related", ()):
            INLINE_RELATED.append(norm_key(p))
        for p in table.get("read_also", ()):
            READ_ALSO.add(norm_key(p))
        for p in table.get("byline", ()):
            BYLINE_WORDS.add(norm_key(p))
        for p in table.get("legal", ()):
            LEGAL.append(norm_key(p))
        for p in table.get("related_nouns", ()):
            RELATED_NOUNS.add(norm_key(p))
        for kind, line_kind in _PHRASE_KIND.items():
            for p in table.get(kind, ()):
                PHRASES[norm_key(p)] = line_kind
    for v in PREFIX.values():
        v.sort(key=lambda t: -len(t[0]))
    INLINE_RELATED.sort(key=len, reverse=True)


_build()
_PREFIX_CHARS = 2


def _inline_by_start() -> dict[str, list[str]]:
    """For each start of a key (its first characters), the inline-related phrases that
    key can start with, in :data:`INLINE_RELATED` order."""
    starts = {p[:_PREFIX_CHARS] for p in INLINE_RELATED}
    return {k: [p for p in INLINE_RELATED if p[:_PREFIX_CHARS] == k or len(p) < _PREFIX_CHARS] for k in starts}


_INLINE_BY_START = _inline_by_start()
_INLINE_SHORT = [p for p in INLINE_RELATED if len(p) < _PREFIX_CHARS]
# any phrase of PHRASES, on word boundaries of a key
_PHRASE_FIRST = frozenset(p.split(" ", 1)[0] for p in PHRASES)  # a match holds one of these as a word
_PHRASE_RE = stdlib_re.compile(
    r"(?<![^ ])(?:" + "|".join(stdlib_re.escape(p) for p in sorted(PHRASES, key=len, reverse=True)) + r")(?![^ ])")

# any phrase of LEGAL, anywhere in a key
_LEGAL_RE = stdlib_re.compile("|".join(stdlib_re.escape(p) for p in LEGAL))

# ---------------------------------------------------------------- shape

_WORD = re.compile(r"\w+")
TERMINAL = set(".!?…؟۔。！？")
CONTINUE = set("،؛;:,")
_CLOSERS = "\"'»”’)]›」』*\u00a0 \t\u200f\u200e"
_BULLET_FIRST = frozenset("•·▪●◦‣∙○■□►▶➤✓✔-–—*+")
BULLET = re.compile(r"^\s*(?:[•·▪●◦‣∙○■□►▶➤✓✔\-–—*+]|\d{1,2}[.)])\s+")
_SEP = re.compile(r"^\s*([^:：|\n]{1,40}?)\s*[:：]\s*(.*)$", re.S)
_CREDIT_WORDS = {"وكالات", "متابعات", "مراسلنا", "خاص", "وكاله", "المحرر", "بوابه"}
_CAPTION_TAIL = re.compile(r"\s[/|©]\s*[A-Za-z][\w .&'\-]{1,40}$")
_PHOTO_WORD = re.compile(r"(?i)\b(?:getty images|shutterstock|istock|ap photo|afp photo|reuters/|photo:|"
                         r"photo by|photograph:|image:|credit:|pictured:|file photo|photo credit)")
# a 30-word line without any punctuation is a keyword / tag cloud, not a paragraph
_PUNCT = re.compile(r"[.,;:!?()\"«»“”،؛؟。，、]")
_MENU_SEP = re.compile(r"\s[|•·]\s")
_COPY = re.compile(r"©|\(c\)\s*\d{4}|\bcopyright\b", re.I)


@dataclass(slots=True)
class Line:
    """One line of the input: offsets into the original text and shape features."""

    i: int
    start: int          # first char of the line
    end: int            # end of the line's text (before its newline)
    stop: int           # end including the newline
    text: str           # original line text (no newline)
    s: str              # stripped text
    words: int
    term: bool          # ends with terminal punctuation (closers skipped)
    cont: bool          # ends with a comma-like continuation mark
    bullet: bool
    prose: bool
    key: str
    kind: str | None = None      # lexicon / shape chrome kind
    reason: str = ""
    value: str = ""              # label value (e.g. source name)

    @property
    def blank(self) -> bool:
        return not self.s

    @property
    def headline(self) -> bool:
        """Short line without terminal punctuation (menu item, headline, label)."""
        return bool(self.s) and not self.term and not self.prose and self.words <= 30


_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF))


@lru_cache(maxsize=1)
def _word_table() -> np.ndarray:
    """Per code point: 1 for a word character (regex ``\\w``), 2 for a CJK character."""
    table = np.zeros(0x110000, dtype=np.uint8)
    for m in _WORD.finditer("".join(map(chr, range(0x110000)))):
        table[m.start() : m.end()] = 1
    for lo, hi in _CJK_RANGES:
        table[lo : hi + 1] |= 2
    return table


def count_words_many(strings: Sequence[str]) -> np.ndarray:
    """Words of each string: runs of word characters, except that CJK text, written
    without spaces, counts one word per two characters (plus one per string)."""
    cps, starts = code_points(strings)
    return kernels.word_counts(cps, starts, _word_table())


def count_words(s: str) -> int:
    """:func:`count_words_many` of one string."""
    return int(count_words_many([s])[0])


def _menu(s: str, words: int) -> bool:
    """A run of links joined by separators («News | Sport | Weather | …»), not a sentence."""
    if "|" not in s and "•" not in s and "·" not in s:
        return False
    seps = len(_MENU_SEP.findall(s))
    return seps >= 3 and 5 * seps >= words


def make_line(i: int, text: str, s: str, start: int, stop: int, key: str, words: int) -> Line:
    """The :class:`Line` of ``text`` (``s``: it stripped; ``words``: :func:`count_words` of ``s``)."""
    if not s:
        return Line(i, start, start + len(text), stop, text, "", 0, False, False, False, False, "")
    t = s.rstrip(_CLOSERS)
    last = t[-1:]
    term = last in TERMINAL
    cont = last in CONTINUE
    bullet = (s[0] in _BULLET_FIRST or s[0].isdigit()) and BULLET.match(s) is not None
    prose = (((term or cont) and words >= 8) or (words >= 30 and _PUNCT.search(s) is not None)) and not _menu(s, words)
    return Line(i, start, start + len(text), stop, text, s, words, term, cont, bullet, prose, key)


def _lines(text: str) -> tuple[list[str], list[int]]:
    """The lines of ``text``, and where each starts (one more entry: where a line after the
    last would start)."""
    parts = text.split("\n")
    if not parts[-1]:
        parts.pop()  # a final newline ends the last line: no empty line after it
    return parts, [0, *accumulate(len(part) + 1 for part in parts)]


def split_lines_many(texts: Sequence[str]) -> list[list[Line]]:
    """The lines of each of ``texts`` with their features. The keys and word counts of all
    their lines come from one pass of the compiled normalizer (per-call overhead is most of
    the cost for one short article)."""
    lines, starts = zip(*map(_lines, texts)) if texts else ((), ())
    raw = [line for own in lines for line in own]
    stripped = [r.strip() for r in raw]
    keys = norm_keys([s[:KEY_CHARS] for s in stripped])
    words = count_words_many(stripped).tolist()
    out, at = [], 0
    for text, own in zip(texts, starts):
        stops = own[1:]
        if stops:
            stops[-1] = min(stops[-1], len(text))  # the last line may end without a newline
        k = len(stops)
        out.append(list(map(make_line, range(k), raw[at : at + k], stripped[at : at + k], own, stops,
                            keys[at : at + k], words[at : at + k])))
        at += k
    return out


def split_lines(text: str) -> list[Line]:
    """The lines of ``text`` with their features."""
    return split_lines_many([text])[0]


# ---------------------------------------------------------------- line rules

_NUMDATE = re.compile(r"\d{1,2}:\d{2}|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")


def _is_date_line(ln: Line) -> bool:
    """Whole line is a date / time stamp (month names, numbers, agency or by-words only)."""
    if ln.words > 14 or ln.prose:
        return False
    toks = ln.key.split()
    if not toks:
        return False
    has_digit = False
    has_month = False
    other = 0
    for t in toks:
        if t[0] == "0":
            has_digit = True
        elif t in MONTHS:
            has_month = True
        elif t in DATE_AUX or t in AGENCIES or t in BYLINE_WORDS:
            continue
        else:
            other += 1
    if not has_digit or not (has_month or _NUMDATE.search(ln.s)):
        return False
    return other == 0 or (has_month and other <= 1 and len(toks) >= 4)


def classify(ln: Line) -> None:
    """Set ``ln.kind``/``reason``/``value`` when the line is chrome by lexicon or shape."""
    if not ln.s:
        return
    key = ln.key
    # whole-line lexicon
    k = WHOLE.get(key)
    if k is None and key[:2] == "0 ":
        k2 = WHOLE.get(key[2:])
        if k2 in ("comments", "social", "related_header"):
            k = k2
    if k is not None and ln.words <= 8:
        ln.kind, ln.reason = k, f"lexicon line «{ln.s[:40]}»"
        return
    # label: "<label>: value"
    if not ln.prose or ln.words <= 40:
        m = _SEP.match(ln.s) if ":" in ln.s or "：" in ln.s else None
        if m:
            lk = norm_key(m.group(1))
            kind = LABEL.get(lk)
            if kind is not None:
                val = m.group(2).strip()
                if kind in ("source", "tags", "date", "byline", "caption", "read_also", "related_header",
                            "comments", "wire_control") or not ln.prose:
                    if not (ln.prose and kind in ("byline", "caption") and count_words(val) > 12):
                        ln.kind, ln.reason, ln.value = kind, f"label «{m.group(1).strip()}:»", val
                        return
    if ln.words <= PHRASE_WORDS and not _PHRASE_FIRST.isdisjoint(key.split(" ")):
        m = _PHRASE_RE.search(key)
        if m is not None:
            ln.kind, ln.reason = PHRASES[m.group()], f"post trailer / comment form «{m.group()}»"
            return
    if ln.prose and ln.words > 12:
        if ln.words <= 40 and not ln.term and _COPY.search(ln.s) and "reserved" in key:
            ln.kind, ln.reason = "copyright", "copyright notice"
            return
        # a longer paragraph is a legal footer only with a copyright sign as well (stacked
        # trademark / rights notices); a whole article on one line has no ©
        long_legal = 150 < ln.words <= 600 and _COPY.search(ln.s) is not None
        if ln.words <= 150 or long_legal:
            full = norm_key(ln.s) if long_legal else key  # the key holds only the first KEY_CHARS
            if _LEGAL_RE.search(full):  # one scan; the reason names the first phrase of the table found
                phrase = next(p for p in LEGAL if p in full)
                ln.kind, ln.reason = "legal", f"site policy / legal notice «{phrase}»"
                return
        return
    # short-line prefixes ("Follow us on Twitter", "Copyright 2019 ...")
    first = key.split(" ", 1)[0]
    for phrase, kind in PREFIX.get(first, ()):
        if key.startswith(phrase) and (len(key) == len(phrase) or key[len(phrase)] == " "):
            if ln.words <= len(phrase.split()) + 6 and not (ln.term and ln.words >= 8):
                ln.kind, ln.reason = kind, f"lexicon prefix «{phrase}»"
                return
    if _COPY.search(ln.s) and ln.words <= 40:
        ln.kind, ln.reason = "copyright", "copyright sign"
        return
    if _is_date_line(ln):
        ln.kind, ln.reason, ln.value = "date", "date-only line", ln.s
        return
    if ln.term and ln.words >= 6:
        return
    toks = key.split()
    # byline: "By John Smith", "كتب محمد علي", credit lines "(الاتحاد، وكالات)", "المناطق_متابعات"
    if ln.words <= 8 and toks:
        if toks[0] in BYLINE_WORDS and 2 <= len(toks) <= 7 and not ln.term:
            if ln.s[:1].isupper() or not ln.s.isascii():
                if toks[0] not in ("του", "της", "απο", "text", "текст", "фото") or len(toks) <= 4:
                    ln.kind, ln.reason, ln.value = "byline", f"byline «{toks[0]}»", ln.s
                    return
        if _CREDIT_WORDS.intersection(toks) and ln.words <= 6:
            ln.kind, ln.reason, ln.value = "byline", "credit line (agencies/متابعات)", ln.s
            return
    if ln.words <= 16 and not ln.term:
        if _CAPTION_TAIL.search(ln.s) or _PHOTO_WORD.search(ln.s):
            ln.kind, ln.reason = "caption", "caption / photo credit"
            return


def agencies_in(s: str) -> list[str]:
    """Canonical agency names mentioned in a short chrome string."""
    toks = norm_key(s).split()
    found: list[str] = []
    n = len(toks)
    for i in range(n):
        for j in (3, 2, 1):
            if i + j <= n:
                name = AGENCIES.get(" ".join(toks[i:i + j]))
                if name and name not in found:
                    found.append(name)
                    break
    return found


# inline related-headline run: marker … last timestamp, then the paragraph resumes
_TIME = re.compile(r"\d{1,2}:\d{2}(?:\s*(?:مساءً|مساء|صباحاً|صباحا|ص|م|[AaPp]\.?[Mm]\.?))?")


# Where style sheets or scripts begin when a page's code leaks into its text: a CSS rule
# (``#id .class {``), a tag, or a JavaScript statement.
_CODE_START = re.compile(r"(?:[#.]?[A-Za-z_][\w-]*(?:[ \t]+[#.]?[A-Za-z_][\w-]*)*[ \t]*\{|<(?:script|style)\b"
                         r"|\bfunction[ \t]*\(|\bvar[ \t]+\w+[ \t]*=)")
_CODE_MARKS = "{};:"
_ASCII_RUN = re.compile(r"[\x00-\x7f]+")
_ASCII_PIECE = re.compile(r"[\x00-\x7f]{3,}")  # the next piece of code after an island
_CODE_ISLAND = 40  # characters of a string literal in another script inside the code
CODE_MIN_CHARS = 200


def code_span(ln: Line) -> tuple[int, int, str] | None:
    """(start, end, reason) of style-sheet or script code leaked into a line (glued to its
    prose or alone): ASCII text from a code start, across short non-ASCII islands (strings
    inside the code), dense in ``{ } ; :`` and at least ``CODE_MIN_CHARS`` long."""
    s = ln.text
    if len(s) < CODE_MIN_CHARS or not ("{" in s or "<" in s or "function" in s or "var" in s):
        return None  # every code start needs one of these
    for m in _CODE_START.finditer(s):
        run = _ASCII_RUN.match(s, m.start())
        end, marks = run.end(), _marks(run.group())
        while (nxt := _ASCII_PIECE.search(s, end)) is not None and nxt.start() - end <= _CODE_ISLAND:
            more = _marks(nxt.group())
            if more < max(3, 0.04 * len(nxt.group())):
                break
            end, marks = nxt.end(), marks + more
        if end - m.start() >= CODE_MIN_CHARS and marks >= 10 and marks >= 0.04 * (end - m.start()):
            return m.start(), end, f"style or script code ({marks} of {{ }} ; : in {end - m.start()} characters)"
    return None


def _marks(text: str) -> int:
    return sum(text.count(c) for c in _CODE_MARKS)


def inline_related_span(ln: Line) -> tuple[int, int, str] | None:
    """(start, end, reason) of a widget header glued to the paragraph that follows it."""
    key = ln.key
    for phrase in _INLINE_BY_START.get(key[:_PREFIX_CHARS], _INLINE_SHORT):
        if key.startswith(phrase) and len(key) > len(phrase) + 1:
            break
    else:
        return None
    s = ln.text
    lead = len(s) - len(s.lstrip())
    # find where the phrase ends in the original text (count its words)
    nwords = len(phrase.split())
    it = list(_WORD.finditer(s))
    if len(it) < nwords:
        return None
    # glued prefix: the phrase's last word is glued to the next word («صلةاعتبر»)
    pend = None
    acc = ""
    k = 0
    for m in it:
        acc = (acc + " " + norm_key(m.group())).strip()
        if acc == phrase:
            pend = m.end()
            break
        if norm_key(acc).startswith(phrase) and k + 1 >= nwords:
            # glued: find the longest prefix of the word that completes the phrase
            word = m.group()
            for cut in range(1, len(word)):
                if norm_key((" ".join(x.group() for x in it[:k]) + " " + word[:cut]).strip()) == phrase:
                    pend = m.start() + cut
                    break
            break
        k += 1
        if k > nwords + 1:
            break
    if pend is None:
        return None
    times = list(_TIME.finditer(s, pend))
    if times:
        end = times[-1].end()
        rest = s[end:]
        if count_words(rest) >= 3:
            return lead, end, f"inline related run «{phrase}» up to last timestamp"
        return None
    rest = s[pend:].lstrip(" :\u00a0-–")
    if count_words(rest) >= 8 and (rest[:1] != " " and s[pend:pend + 1] not in (" ", ":")):
        return lead, pend, f"widget header «{phrase}» glued to the lead"
    return None
