"""The whole flow for a batch: strip, shingle, sign, band, verify, cluster.

:class:`Deduplicator` holds the settings and the stripping hook; :func:`find_clusters`
is the one-call form. Every input document, and every embedded article the stripper
splits out of one, comes back in exactly one cluster.
"""

from __future__ import annotations

import math
import os
import pickle
from collections import Counter
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import regex

from . import boilerplate
from .boilerplate.templates import learn_from_lines, site_lines
from .candidates import BandRows, band_rows
from .cluster import Group, Provenance, cluster
from .collection import collector_paused
from .differs import KeyTexts, differing_words
from .lsh import Bands, optimal_bands
from .minhash import MinHasher
from .model import Cluster, Document, Evidence, Member, Stripped
from .normalize import normalize_many
from .pool import on_shared, process_pool
from .shingle import ShingleSets, shingle_windows
from .verify import Thresholds, common_mask, verify

Stripper = Callable[[Document], Stripped]
#: ``progress(stage, done, total)``: called as each stage advances.
Progress = Callable[[str, int, int], None]

_ISO_DATE = regex.compile(r"^\d{4}-\d{2}-\d{2}")
_MAX_EMBEDDED_DEPTH = 3


def passthrough(document: Document) -> Stripped:
    """A stripping hook that keeps the whole text as the body."""
    return Stripped(body=document.text)


@dataclass(frozen=True)
class ChromeStripper:
    """The default hook: :func:`dedup.boilerplate.strip` with per-site templates."""

    templates: boilerplate.Templates | None = None
    embedded: str = "split"

    def __call__(self, document: Document) -> Stripped:
        return self.many([document])[0]

    def many(self, documents: Sequence[Document]) -> list[Stripped]:
        """The hook on each of ``documents`` at once (:func:`dedup.boilerplate.strip_many`)."""
        return boilerplate.strip_many(documents, templates=self.templates, embedded=self.embedded)


class DuplicateIdError(ValueError):
    """Two input documents share one id."""


@dataclass(frozen=True)
class Settings:
    """Every knob of a run. The defaults are the tuned ones."""

    ngram: int = 3
    num_perm: int = 128
    seed: int = 1
    lsh_threshold: float = 0.4
    jaccard: float = 0.5
    containment: float = 0.45
    specific: float = 0.45
    common_df: int = 30
    min_shingles: int = 8
    min_contained: int = 20
    min_specific: int = 10
    min_words: int = 10
    max_chars: int = 1_000_000
    window: int = 80
    max_bucket: int = 10
    embedded: str = "split"
    learn_templates: bool = True
    template_docs: int = 10_000

    @property
    def thresholds(self) -> Thresholds:
        """The verification thresholds of these settings."""
        return Thresholds(
            self.jaccard, self.containment, self.specific, self.min_shingles, self.min_contained, self.min_specific
        )

    @property
    def bands(self) -> Bands:
        """The LSH band layout for ``lsh_threshold`` over ``num_perm`` permutations."""
        return Bands(*optimal_bands(self.lsh_threshold, self.num_perm))


@dataclass(frozen=True)
class Result:
    """Clusters of one run, with every document and what stripping made of it."""

    clusters: tuple[Cluster, ...]
    documents: Mapping[str, Document]
    stripped: Mapping[str, Stripped]
    stats: Mapping[str, int] = field(default_factory=dict)

    @property
    def duplicates(self) -> int:
        """Documents that sit in a cluster of two or more."""
        return sum(c.size for c in self.clusters if c.size > 1)

    def stripped_chars(self, doc_id: str) -> int:
        """Characters of chrome the stripper cut from one document."""
        return _stripped_chars(self.documents[doc_id], self.stripped[doc_id])

    @property
    def chrome_removed(self) -> int:
        """Characters of chrome cut from all documents."""
        return sum(self.stripped_chars(doc_id) for doc_id in self.documents)


class Deduplicator:
    """Runs the flow with fixed settings and a stripping hook.

    Without a hook, chrome is stripped by :class:`ChromeStripper`, with templates learned
    per source from the documents of each run (when they carry a source and
    ``settings.learn_templates`` is on).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        strip: Stripper | None = None,
        workers: int | None = None,
        chunk: int = 1000,
    ) -> None:
        self.settings = settings or Settings()
        self.strip = strip
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.chunk = chunk  # documents per task of the per-document stages
        self.hasher = MinHasher(self.settings.num_perm, self.settings.seed)

    def stripper_for(self, documents: Iterable[Document]) -> Stripper:
        """The hook used for ``documents``: the given one, or the default with templates
        learned from the first ``settings.template_docs`` documents of each source."""
        if self.strip is not None:
            return self.strip
        documents = list(documents)
        with self._pool(None, documents) as pool:
            return self._default_stripper(documents, pool, _silent)

    @collector_paused()
    def run(self, documents: Iterable[Document], progress: Progress | None = None) -> Result:
        """Cluster ``documents`` (and the embedded articles split out of them).

        The per-document stages run on ``workers`` processes; the result does not depend
        on their number. ``progress`` is told how each stage advances.
        """
        report = progress or _silent
        documents = list(documents)
        with self._pool(self.strip, documents) as pool:
            strip = self.strip or self._default_stripper(documents, pool, report)
            docs, stripped, shingles, rows = self._signed(documents, strip, pool, report)
        capped = sum(len(stripped[d.id].body) > self.settings.max_chars for d in docs)
        provenance = Provenance(
            dates=[document_date(d) for d in docs],
            removed=np.array([_stripped_chars(d, stripped[d.id]) for d in docs]),
            ids=[d.id for d in docs],
        )
        grouping = group_signed(shingles, rows, provenance, self.settings, report, threads=self.workers)
        texts = KeyTexts.of(_compared_keys(grouping.groups, [stripped[d.id].body for d in docs], self.settings.max_chars))
        clusters = tuple(to_clusters(grouping.groups, docs, texts, grouping, self.settings.min_words))
        report("cluster", len(docs), len(docs))
        stats = {
            "documents": sum(1 for d in docs if "parent_id" not in d.meta),
            "embedded": sum(1 for d in docs if "parent_id" in d.meta),
            "too_short": int((~grouping.comparable).sum()),
            "capped": capped,
            "candidates": grouping.candidates,
            "edges": grouping.edges,
        }
        return Result(clusters, {d.id: d for d in docs}, stripped, stats)

    def prepare(
        self, documents: list[Document], strip: Stripper, report: Progress | None = None
    ) -> tuple[list[Document], dict[str, Stripped], list[str]]:
        """Strip and normalize every document (and embedded article), in input order."""
        with self._pool(strip, documents) as pool:
            docs, stripped, rest = self._stripped(
                _prepare_chunk, documents, pool, report or _silent, strip, self.settings.max_chars
            )
        return docs, stripped, [key for (keys,) in rest for key in keys]

    def _default_stripper(self, documents: list[Document], pool: ProcessPoolExecutor | None, report: Progress) -> Stripper:
        """:class:`ChromeStripper` with templates learned, when ``settings.learn_templates``,
        from the first ``settings.template_docs`` documents of each source."""
        picks: list[int] = []
        if self.settings.learn_templates:
            picks = template_picks((d.source for d in documents), self.settings.template_docs, Counter())
        if not picks:
            return ChromeStripper(None, self.settings.embedded)
        chunks = self._chunks("templates", _site_lines, documents, pool, report, picks=picks)
        lines = (entry for _, found in chunks for entry in found)
        return ChromeStripper(learn_from_lines(lines), self.settings.embedded)

    def _signed(
        self, documents: list[Document], strip: Stripper, pool: ProcessPoolExecutor | None, report: Progress
    ) -> tuple[list[Document], dict[str, Stripped], ShingleSets, BandRows]:
        """:meth:`prepare`, with the keys shingled and signed in the workers (:func:`sign_keys`)
        instead of sent back."""
        docs, stripped, rest = self._stripped(_sign_chunk, documents, pool, report, strip, self.settings, self.hasher)
        shingles, rows = zip(*rest)
        return docs, stripped, ShingleSets.concat(shingles), BandRows.concat(rows, [len(s) for s in shingles])

    def _stripped(
        self, function: Callable, documents: list[Document], pool: ProcessPoolExecutor | None, report: Progress,
        *arguments: object,
    ) -> tuple[list[Document], dict[str, Stripped], list[list[Any]]]:
        """``function`` (:func:`_prepare_chunk` or :func:`_sign_chunk`) over the chunks of
        ``documents``: every document and embedded article in input order, what stripping made
        of each (ids checked unique), and the rest of each chunk's result. The workers do not
        send a chunk's own documents back: None stands for the chunk's next one."""
        docs: list[Document] = []
        stripped: dict[str, Stripped] = {}
        rest = []
        for chunk, (found, results, *more) in self._chunks("strip", function, documents, pool, report, *arguments):
            own = iter(chunk)
            for doc, result in zip(found, results):
                doc = next(own) if doc is None else doc
                if doc.id in stripped:
                    raise DuplicateIdError(f"duplicate document id {doc.id!r}")
                stripped[doc.id] = result
                docs.append(doc)
            rest.append(more)
        return docs, stripped, rest

    @contextmanager
    def _pool(self, strip: Stripper | None, documents: list[Document]) -> Iterator[ProcessPoolExecutor | None]:
        """The worker processes of one call over ``documents`` (none with one worker), which
        must be able to receive the stripping hook ``strip``; pending work is cancelled when
        the call ends."""
        if self.workers == 1:
            yield None
            return
        try:
            pickle.dumps(strip)
        except Exception as err:  # lambdas and closures cannot reach other processes
            raise ValueError(f"workers={self.workers} needs a picklable strip hook ({err}); use workers=1") from None
        chunks = -(-len(documents) // self.chunk)  # no more processes than tasks
        pool = process_pool(max(1, min(self.workers, chunks)), documents)  # they start with the first task
        try:
            yield pool
        finally:
            pool.shutdown(cancel_futures=True)

    def _chunks(
        self, stage: str, function: Callable, documents: list[Document], pool: ProcessPoolExecutor | None,
        report: Progress, *arguments: object, picks: Sequence[int] | None = None,
    ) -> Iterator[tuple[list[Document], Any]]:
        """Each chunk of ``documents`` (those at positions ``picks``, by default all; at least
        one chunk, perhaps empty) with ``function(chunk, *arguments)``, in order, computed on
        ``pool`` (which shares ``documents``) when given; ``report`` counts the chunks'
        documents done as ``stage``."""
        rows = range(len(documents)) if picks is None else picks
        spans = [rows[i : i + self.chunk] for i in range(0, len(rows), self.chunk)] or [rows[:0]]
        chunks = [[documents[i] for i in span] for span in spans]
        if pool is None or len(spans) < 2:
            results: Iterable = (function(chunk, *arguments) for chunk in chunks)
        else:  # the workers hold the documents: a task names its chunk's positions
            repeated = ([argument] * len(spans) for argument in arguments)
            results = pool.map(on_shared, [function] * len(spans), spans, *repeated)
        done = 0
        report(stage, done, len(rows))
        for chunk, result in zip(chunks, results):
            done += len(chunk)
            report(stage, done, len(rows))
            yield chunk, result


def template_picks(sources: Iterable[str | None], cap: int, taken: Counter) -> list[int]:
    """Positions, among ``sources``, of the documents templates are learned from: the first
    ``cap`` of each source (``taken`` counts those already picked, across calls)."""
    picks = []
    for i, source in enumerate(sources):
        if source and taken[source] < cap:
            taken[source] += 1
            picks.append(i)
    return picks


@dataclass(frozen=True)
class Grouping:
    """What clustering a set of keys produced: the groups (document positions), the
    shingle sets they were judged on, which documents were long enough to compare,
    and how many candidate pairs and verified edges there were."""

    groups: list[Group]
    shingles: ShingleSets
    comparable: np.ndarray
    candidates: int
    edges: int


def sign_keys(keys: Sequence[str], settings: Settings, hasher: MinHasher,
              windows: bool = True) -> tuple[ShingleSets, BandRows]:
    """The shingle sets of normalized ``keys`` and the band keys of their whole texts, leads
    and (when ``windows``) windows, :class:`dedup.candidates.BandRows`."""
    shingles, row_signatures, owners = shingle_windows(keys, settings.ngram, settings.window, hasher.a, hasher.b, windows)
    comparable = shingles.words >= settings.min_words
    return shingles, band_rows(hasher.signatures(shingles), comparable, row_signatures, owners, settings.bands)


def group_signed(
    shingles: ShingleSets,
    rows: BandRows,
    provenance: Provenance,
    settings: Settings,
    report: Progress | None = None,
    *,
    flags: np.ndarray | None = None,
    threads: int = 1,
) -> Grouping:
    """Band, verify and cluster documents by their ``shingles`` and band ``rows``.

    ``flags`` marks their common entries (by default: found in more than
    ``settings.common_df`` of these documents, :func:`dedup.verify.common_mask`); the
    incremental index passes flags from its corpus-wide counts. Bucketing, counting and
    scoring run on up to ``threads`` threads (:mod:`dedup.threads`), with the same result.
    """
    report = report or _silent
    n = len(shingles)
    report("bands", 0, n)
    candidates = rows.candidates(settings.max_bucket, threads)
    report("bands", n, n)
    report("verify", 0, len(candidates))
    flags = common_mask(shingles, settings.common_df, threads) if flags is None else flags
    edges, edge_scores = verify(shingles, candidates, settings.thresholds, flags, threads)
    report("verify", len(candidates), len(candidates))
    report("cluster", 0, n)
    groups = cluster(n, edges, shingles, settings.thresholds, provenance, flags, edge_scores.jaccard)
    comparable = shingles.words >= settings.min_words
    return Grouping(groups, shingles, comparable, len(candidates), len(edges))


def to_clusters(groups: Sequence[Group], docs: Sequence[Document], keys: KeyTexts, grouping: Grouping,
                min_words: int, only: Container[int] | None = None) -> list[Cluster]:
    """The :class:`Cluster` of each of ``groups``, numbered from 1, with each member's evidence
    (only the members at positions ``only``, when given); ``keys`` hold the normalized key of
    every position. The words that differ are found for every member in one call."""
    positions = [g.members.tolist() for g in groups]
    wanted = [[k for k, pos in enumerate(own) if only is None or pos in only] for own in positions]
    others = [[k for k in ks if own[k] != g.canonical] for g, own, ks in zip(groups, positions, wanted)]
    members = [own[k] for own, ks in zip(positions, others) for k in ks]
    canonicals = [g.canonical for g, ks in zip(groups, others) for _ in ks]
    found = iter(differing_words(keys, np.array(members, dtype=np.int64), np.array(canonicals, dtype=np.int64)))
    return [_cluster(number, g, own, docs, grouping, min_words, ks, {k: next(found) for k in rest})
            for number, (g, own, ks, rest) in enumerate(zip(groups, positions, wanted, others), start=1)]


def _cluster(number: int, group: Group, positions: list[int], docs: Sequence[Document], grouping: Grouping,
             min_words: int, wanted: list[int], differs: dict[int, tuple[str, ...]]) -> Cluster:
    """The :class:`Cluster` numbered ``number`` for ``group`` (its members at ``positions``),
    with the evidence of the members ``wanted`` (their places in ``positions``); ``differs``:
    the words that differ, for those that are not the canonical."""
    shingles = grouping.shingles
    canonical = docs[group.canonical]
    reason = group.reason
    if not grouping.comparable[group.canonical]:
        reason = f"too short after stripping: {int(shingles.words[group.canonical])} words (minimum {min_words})"
    sc = group.scores
    shared, jaccard, containment = sc.shared.tolist(), sc.jaccard.tolist(), sc.containment.tolist()
    specific = sc.specific.tolist()
    sizes, canonical_size = shingles.sizes[group.members].tolist(), int(shingles.sizes[group.canonical])
    members = []
    for k in wanted:
        doc = docs[positions[k]]
        evidence = Evidence(
            jaccard=round(jaccard[k], 4),
            containment=round(containment[k], 4),
            specific=None if math.isnan(specific[k]) else round(specific[k], 4),
            shared=shared[k],
            only_member=sizes[k] - shared[k],
            only_canonical=canonical_size - shared[k],
            differs=differs.get(k, ()),
        )
        members.append(
            Member(
                doc_id=doc.id,
                similarity=max(evidence.jaccard, evidence.containment),
                is_canonical=positions[k] == group.canonical,
                evidence=evidence,
                parent_id=doc.meta.get("parent_id"),
            )
        )
    return Cluster(id=number, canonical=canonical, members=tuple(members), reason=reason)


def document_date(document: Document) -> str | None:
    """The sortable date of ``document`` the canonical choice uses, if it has an ISO one."""
    return document.date[:19] if document.date and _ISO_DATE.match(document.date) else None


def _stripped_chars(document: Document, stripped: Stripped) -> int:
    """Characters the stripper cut from ``document``."""
    return len(document.text) - len(stripped.body)


def _silent(stage: str, done: int, total: int) -> None:
    """A progress callback that reports nothing."""


@collector_paused()
def _prepare_chunk(
    documents: list[Document], strip: Stripper, cap: int
) -> tuple[list[Document | None], list[Stripped], list[str]]:
    """Strip a chunk (embedded articles depth-first, in order) and normalize the bodies,
    each up to ``cap`` characters (the rest of a longer body is not hashed). The chunk is
    stripped a level at a time: its documents, then their embedded articles, and so on.

    Returns the documents in order (None for the chunk's own, :meth:`Deduplicator._stripped`), what
    stripping made of each, and their normalized keys.
    """
    found: dict[int, Stripped] = {}  # by id() of the document: ids are checked by Deduplicator._stripped
    level = documents
    for depth in range(_MAX_EMBEDDED_DEPTH + 1):
        results = _strip_all(strip, level)
        found.update(zip(map(id, level), results))
        if depth < _MAX_EMBEDDED_DEPTH:
            level = [child for result in results for child in result.children]
    ordered: list[Document | None] = []
    kept: list[Stripped] = []
    queue: list[tuple[Document, bool]] = [(doc, True) for doc in reversed(documents)]
    while queue:
        doc, own = queue.pop()
        result = found[id(doc)]
        ordered.append(None if own else doc)
        kept.append(result)
        queue.extend((child, False) for child in reversed(result.children) if id(child) in found)
    return ordered, kept, normalize_many([result.body[:cap] for result in kept])


def _sign_chunk(
    documents: list[Document], strip: Stripper, settings: Settings, hasher: MinHasher
) -> tuple[list[Document | None], list[Stripped], ShingleSets, BandRows]:
    """:func:`_prepare_chunk`, with the keys shingled and signed (:func:`sign_keys`) instead of returned."""
    found, results, keys = _prepare_chunk(documents, strip, settings.max_chars)
    return (found, results, *sign_keys(keys, settings, hasher))


def _compared_keys(groups: Sequence[Group], bodies: Sequence[str], cap: int) -> list[str]:
    """The normalized keys (of the first ``cap`` characters of ``bodies``) of the documents in
    groups of two or more, whose differing words are shown; empty for the others."""
    keys = [""] * len(bodies)
    shown = [p for group in groups if len(group.members) > 1 for p in group.members.tolist()]
    for p, key in zip(shown, normalize_many([bodies[p][:cap] for p in shown])):
        keys[p] = key
    return keys


def _site_lines(documents: list[Document]) -> list[tuple[str, set[str]]]:
    """The site and line keys of each of ``documents`` that templates are learned from."""
    return list(site_lines(documents))


def _strip_all(strip: Stripper, documents: list[Document]) -> list[Stripped]:
    """``strip`` of each document, through the hook's batch form ``strip.many`` when it has one."""
    many = getattr(strip, "many", None)
    return many(documents) if many is not None else [strip(d) for d in documents]


def find_clusters(
    documents: Iterable[Document],
    *,
    strip: Stripper | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    engine: str = "local",
    ray_address: str | None = None,
    **options: object,
) -> Result:
    """Cluster ``documents`` into copies of the same story.

    ``options`` are :class:`Settings` fields (``ngram``, ``jaccard``,
    ``containment``, ``lsh_threshold``, ``embedded``...). ``strip`` is the hook applied
    to each document before hashing; by default portal chrome is stripped
    (:class:`ChromeStripper`); pass :func:`passthrough` to hash whole texts.
    ``workers`` (default: all cores) run the per-document stages; results are the same
    for any number. ``progress(stage, done, total)`` is told how each stage advances.
    ``engine="ray"`` runs the staged flow (:mod:`dedup.stages`) on Ray (a local
    instance, or the cluster at ``ray_address``), with the same result.
    """
    settings = Settings(**options)  # type: ignore[arg-type]
    if engine == "local":
        return Deduplicator(settings, strip, workers).run(documents, progress)
    from .engines import executor_for, staged_clusters

    return staged_clusters(documents, settings, executor_for(engine, workers, ray_address), strip, progress)
