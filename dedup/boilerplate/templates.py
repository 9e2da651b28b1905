"""Per-site template learning.

For every ``source`` the learner counts, over *different stories* of that source, how many
stories contain each normalised line (digits -> 0, Arabic letters unified). A line found in
at least ``max(min_stories, min_share * stories)`` stories of one source is a template line of
that source. Lines that occur in documents of two or more sources are wire copy (or common
chrome the lexicon handles) and are never learned. "Stories" are documents grouped when they share at
least half of their long lines, so copies of one story count once; a long line found in most
documents of a source (an "about" blurb, a disclaimer) is no evidence of a shared story. Lines up
to ``max_len`` characters are learned, keyed like :class:`lines.Line` (first 240 characters).
A source that is a host name stands for its registrable domain (:func:`site_key`), so the
sections of one site («news.example.com», «sport.example.com») share its templates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

from dedup.model import Document

from .lines import KEY_CHARS, norm_keys

_BLOCK = 512  # documents whose lines are keyed in one pass


@dataclass
class Templates:
    """Learned per-site template lines: ``lines[site_key(source)]`` is a set of line keys."""

    lines: dict[str, frozenset[str]] = field(default_factory=dict)
    stories: dict[str, int] = field(default_factory=dict)

    def for_source(self, source: str | None) -> frozenset[str]:
        if source is None:
            return frozenset()
        return self.lines.get(site_key(source), frozenset())

    def __len__(self) -> int:
        return sum(len(v) for v in self.lines.values())


_SLD = frozenset(("co", "com", "org", "net", "ac", "gov", "edu", "or", "ne", "go"))
# blog hosts whose subdomains are separate sites (the private part of the public suffix list)
_HOSTS = frozenset(("blogspot.com", "wordpress.com", "typepad.com", "posterous.com", "tumblr.com",
                    "livejournal.com", "substack.com"))


def site_key(source: str) -> str:
    """The site a source belongs to: a host name is reduced to its registrable domain
    («news.example.co.uk» -> «example.co.uk»; a blog on a shared host keeps its own name), so
    a site's sections share its templates; any other source name is kept as it is."""
    if "." not in source or " " in source:
        return source
    parts = source.lower().split(".")
    if parts[0] == "www":
        parts = parts[1:]
    n = 3 if len(parts) >= 3 and len(parts[-1]) == 2 and parts[-2] in _SLD else 2
    if ".".join(parts[-n:]) in _HOSTS:
        n += 1
    return ".".join(parts[-n:])


def line_keys_many(texts: Sequence[str], max_len: int = 1000) -> list[set[str]]:
    """For each of ``texts``, the keys of its lines no longer than ``max_len`` (the keys of
    :class:`lines.Line`), all computed in one pass."""
    lines = [[s for s in (raw.strip() for raw in text.split("\n")) if s and len(s) <= max_len] for text in texts]
    keys = norm_keys([s[:KEY_CHARS] for own in lines for s in own])
    found, at = [], 0
    for own in lines:
        found.append({k for k in keys[at : at + len(own)] if k})
        at += len(own)
    return found


class _DSU:
    def __init__(self, n: int) -> None:
        self.p = list(range(n))

    def find(self, x: int) -> int:
        while self.p[x] != x:
            self.p[x] = self.p[self.p[x]]
            x = self.p[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.p[ra] = rb


def site_lines(documents: Iterable[Document], max_len: int = 1000) -> Iterator[tuple[str, set[str]]]:
    """For each document with a ``source``, in order: its site (:func:`site_key`) and the
    keys of its lines no longer than ``max_len`` characters; what :func:`learn_from_lines`
    learns from (a batch of documents can be read apart from the others)."""
    sourced = (d for d in documents if d.source is not None)
    while block := list(islice(sourced, _BLOCK)):
        for d, keys in zip(block, line_keys_many([d.text for d in block], max_len)):
            yield site_key(d.source), keys


def learn_templates(documents: Iterable[Document], min_stories: int = 3, min_share: float = 0.01,
                    story_words: int = 12, max_len: int = 1000) -> Templates:
    """Learn template lines per ``Document.source`` (documents without a source are ignored).

    ``min_stories``: a line must appear in at least this many different stories of a source
    (and in ``min_share`` of them). ``story_words``: lines with at least this many words that
    are rare within a source link documents into one story. Lines longer than ``max_len``
    characters are never templates.
    """
    return learn_from_lines(site_lines(documents, max_len), min_stories, min_share, story_words)


def learn_from_lines(lines: Iterable[tuple[str, set[str]]], min_stories: int = 3, min_share: float = 0.01,
                     story_words: int = 12) -> Templates:
    """:func:`learn_templates` from the :func:`site_lines` of the documents."""
    by_source: dict[str, list[set[str]]] = defaultdict(list)
    for site, keys in lines:
        by_source[site].append(keys)
    # lines seen in more than one source are wire copy / shared chrome: never templates
    seen_in: dict[str, int] = {}
    shared: set[str] = set()
    for si, (src, docs) in enumerate(by_source.items()):
        for keys in docs:
            for k in keys:
                prev = seen_in.get(k)
                if prev is None:
                    seen_in[k] = si
                elif prev != si:
                    shared.add(k)
    out: dict[str, frozenset[str]] = {}
    stories_n: dict[str, int] = {}
    for src, docs in by_source.items():
        n = len(docs)
        df: dict[str, int] = defaultdict(int)
        for keys in docs:
            for k in keys:
                df[k] += 1
        # group copies of one story: docs sharing at least half of their long lines
        cap = max(10, int(0.05 * n))
        longs = [{k for k in keys if k.count(" ") + 1 >= story_words} for keys in docs]
        # long lines in most documents of the source (an "about" blurb, a disclaimer) are no
        # story evidence; a document whose long lines are all such lines keeps them (copies of
        # one story are still grouped when the source holds nothing else)
        if n >= 4:
            common = {k for ls in longs for k in ls if 2 * df[k] > n}
            if common:
                longs = [(ls - common) or ls for ls in longs]
        holders: dict[str, list[int]] = defaultdict(list)
        for di, ls in enumerate(longs):
            for k in ls:
                if 1 < df[k] <= cap:
                    holders[k].append(di)
        pair: dict[tuple[int, int], int] = defaultdict(int)
        for ds in holders.values():
            for x in range(len(ds)):
                for y in range(x + 1, len(ds)):
                    pair[(ds[x], ds[y])] += 1
        dsu = _DSU(n)
        for (x, y), c in pair.items():
            if 2 * c >= min(len(longs[x]), len(longs[y])):
                dsu.union(x, y)
        roots = [dsu.find(i) for i in range(n)]
        n_stories = len(set(roots))
        stories_n[src] = n_stories
        need = max(min_stories, int(min_share * n_stories + 0.999))
        if n_stories < need:
            continue
        sdf: dict[str, set[int]] = defaultdict(set)
        for di, keys in enumerate(docs):
            r = roots[di]
            for k in keys:
                if df[k] >= need and k not in shared:
                    sdf[k].add(r)
        learned = frozenset(k for k, rs in sdf.items() if len(rs) >= need)
        if learned:
            out[src] = learned
    return Templates(out, stories_n)
