"""The incremental index: is a new article a copy of one already seen, and of which story?

``Index.add`` strips, normalizes and signs new documents, looks their band keys up
among everything stored, verifies the candidates exactly on shingle sets
recomputed from the stored normalized text, and re-clusters the neighbourhood
they touch — the new documents, every stored cluster one of them verifies against,
and, to a fixed point, the clusters those clusters' members verify against — with
the same code as a batch run (:func:`dedup.pipeline.group_signed`). So adding a
corpus in daily slices gives the partition one batch run gives (see the
documentation for where the two can differ). Cluster ids stay stable: each new
group keeps the id most of its stored members had. ``Index.query`` answers the same
without storing, or, with ``exact=False``, from the stored clusters as they are: against
the canonicals of the clusters the band keys find, nothing re-clustered.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Container, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from .. import kernels
from ..candidates import BandRows
from ..cluster import (
    Group,
    Provenance,
    alone,
    choose_canonical,
    pair_canonicals,
    pair_coverage,
)
from ..collection import collector_paused
from ..differs import KeyTexts
from ..lsh import distinct
from ..minhash import MinHasher
from ..model import Document, Match
from ..normalize import NORMALIZER_VERSION
from ..pipeline import (
    ChromeStripper,
    Deduplicator,
    Grouping,
    Progress,
    Settings,
    Stripper,
    document_date,
    group_signed,
    sign_keys,
    to_clusters,
)
from ..shingle import ShingleSets, segment_positions, shingle_keys
from ..verify import accepts, score_pairs, verify
from .bandtable import BandTable, combine
from .store import IndexSettingsError, KeyCodec, NewDoc, Store, StoredDoc

SCHEMA_VERSION = 2  # 2: band keys are computed from the stored text, no longer stored
_SETTINGS = [f.name for f in fields(Settings) if f.name not in ("learn_templates", "template_docs")]


def _dedup_version() -> str:
    try:
        return version("dedup")
    except PackageNotFoundError:  # running from a source tree
        return "unknown"


def open_store(location: str) -> Store:
    """The store at ``location``: a ``redis://`` URL, or the path of a SQLite file."""
    if location.startswith(("redis://", "rediss://", "unix://")):
        from .redis import RedisStore

        return RedisStore(location)
    from .sqlite import SQLiteStore

    return SQLiteStore(location)


@dataclass(frozen=True)
class Batch:
    """Documents made ready for the index: the documents (embedded articles split out
    after their parent), their normalized keys, characters stripped, the band keys the
    index stores (``(rows, bands)`` uint32 per document: its whole text and, when long,
    its lead), and their shingle sets and band rows (windows included) for re-clustering."""

    docs: list[Document]
    keys: list[str]
    removed: list[int]
    bands: list[np.ndarray]
    shingles: ShingleSets
    rows: BandRows

    def without(self, ids: set[str]) -> "Batch":
        """This batch less the documents whose id is in ``ids``."""
        keep = [i for i, d in enumerate(self.docs) if d.id not in ids]
        if len(keep) == len(self.docs):
            return self
        columns = ([column[i] for i in keep] for column in (self.docs, self.keys, self.removed, self.bands))
        return Batch(*columns, self.shingles.take(keep), self.rows.take(keep))


@dataclass(frozen=True)
class _Neighbourhood:
    """What one placement grouped: the batch (positions ``0..n-1``), then the stored
    documents it touched, the grouping of all of them, and how many members of each stored
    cluster it grouped were left out of it (the quick placement fetches only canonicals)."""

    batch: Batch
    stored: list[StoredDoc]
    grouping: Grouping
    outside: dict[int, int] = dataclasses.field(default_factory=dict)  # stored cluster -> members left out

    @cached_property
    def docs(self) -> list[Document]:
        """The document at each position (a stored one stands in without its text)."""
        return self.batch.docs + [Document(d.id, "", date=d.date, meta={"parent_id": d.parent} if d.parent else {})
                                  for d in self.stored]

    @cached_property
    def keys(self) -> list[str]:
        """The normalized key at each position."""
        return self.batch.keys + [d.key for d in self.stored]


class Index:
    """A persistent index of documents and their clusters (SQLite file or Redis URL).

    ``options`` are :class:`dedup.Settings` fields. A new index records them in its
    header; an existing one uses its recorded settings and refuses options that differ
    (:class:`IndexSettingsError`). ``df_bits``: the document-frequency table has
    ``2**df_bits`` byte counters (4 MiB by default; raise it for many millions of
    documents). Chrome is stripped with the default stripper unless ``strip`` is given
    (templates are not learned: an index sees documents a few at a time).
    """

    def __init__(
        self,
        location: str | object,
        *,
        strip: Stripper | None = None,
        workers: int | None = 1,
        df_bits: int | None = None,
        max_local: int = 5000,
        **options: object,
    ) -> None:
        self.location = str(location)
        self.store = open_store(self.location)
        self.settings, self.df_bits = self._open(options, df_bits)
        self.hasher = MinHasher(self.settings.num_perm, self.settings.seed)
        self.max_local = max_local  # stored documents one placement may re-cluster
        self._dedup = Deduplicator(self.settings, strip or ChromeStripper(None, self.settings.embedded), workers)
        self._table = BandTable()
        self._seen = 0
        no_rows = BandRows(np.zeros((0, self.settings.bands.bands), dtype=np.uint64), np.zeros(0, dtype=np.int64), 0)
        self._empty = Batch([], [], [], [], ShingleSets.empty(), no_rows)

    # -- opening ------------------------------------------------------------------------

    def _open(self, options: dict[str, object], df_bits: int | None) -> tuple[Settings, int]:
        asked = Settings(**options)  # type: ignore[arg-type]
        bands = asked.bands
        header = {name: json.dumps(getattr(asked, name)) for name in _SETTINGS}
        header.update(
            schema=str(SCHEMA_VERSION), normalizer=str(NORMALIZER_VERSION), bands=str(bands.bands),
            rows=str(bands.rows), df_bits=str(22 if df_bits is None else df_bits), dedup_version=json.dumps(_dedup_version()),
        )
        stored = self.store.header()
        if stored is None:
            self.store.init(header)
            stored = self.store.header() or header
        explicit = set(options) | ({"df_bits"} if df_bits is not None else set())
        checks = [
            (("schema", "normalizer"), "this version uses", "was made by another version of dedup",
             "Build it again from the documents with this version."),
            (sorted(explicit), "asked", "was built with other settings",
             "Open it without these options to use its own, or build a new index."),
        ]
        for names, ours, problem, advice in checks:
            differ = [f"{name}: index has {stored.get(name)}, {ours} {header[name]}" for name in names
                      if stored.get(name) != header[name]]
            if differ:
                raise IndexSettingsError(f"{self.location}: the index {problem} ({'; '.join(differ)}). {advice}")
        settings = Settings(**{name: json.loads(stored[name]) for name in _SETTINGS})
        return settings, int(stored["df_bits"])

    # -- preparing ----------------------------------------------------------------------

    def prepare(self, documents: Iterable[Document]) -> Batch:
        """Strip, normalize and sign ``documents`` (embedded articles split out too)."""
        docs, stripped, keys = self._dedup.prepare(list(documents), self._dedup.strip)  # type: ignore[arg-type]
        shingles, rows = sign_keys(keys, self.settings, self.hasher)
        removed = [len(d.text) - len(stripped[d.id].body) for d in docs]
        return Batch(docs, keys, removed, _lead_bands(rows, len(docs)), shingles, rows)

    # -- the public operations ------------------------------------------------------------

    @collector_paused()
    def add(self, documents: Iterable[Document] | Batch, exact: bool = True) -> list[Match]:
        """Store ``documents`` and place each in a cluster; one :class:`Match` per document,
        embedded articles included, in input order. A document whose id is already stored
        is not prepared or stored again: its match says where it sits (its embedded
        articles, stored with it, are not listed again).

        ``exact=False`` places them as :meth:`query` with ``exact=False`` answers, without
        re-clustering the neighbourhood: its cost does not grow with the size of the clusters
        documents land in, and daily slices no longer give the batch partition. Documents
        already stored then get their place as stored, without evidence."""
        docs, batch = self._fresh(documents)
        with ThreadPoolExecutor(1) as packer, self.store.writing():
            # zstd lets other threads run: the texts are packed while the batch is placed
            packed = packer.submit(_packed, batch)
            self._sync()
            known = self._known([d.id for d in docs], exact)
            fresh = batch.without(set(known))
            matches, rows = self._commit(self._neighbourhood(fresh, []) if exact else self._quick(fresh), packed)
        self._remember(rows, fresh.bands)
        return self._in_order(docs, batch, {**known, **matches})

    @collector_paused()
    def query(self, documents: Iterable[Document] | Batch, exact: bool = True) -> list[Match]:
        """Where ``documents`` would go, without storing them. A document that would open
        a new cluster gets ``cluster_id=None``.

        ``exact=False`` answers from the stored clusters as they are, without re-clustering
        the neighbourhood: each document joins, among the clusters of the stored documents
        its band keys find, the one whose canonical it verifies against most closely, and
        becomes its canonical when it is the more complete of the two; the documents that
        join none are clustered among themselves. That is the exact placement unless a
        document would reshape the clusters around it (link two of them, split one, move
        members), and its cost does not grow with the size of the clusters it lands in.
        Documents already stored then get their place as stored, without evidence."""
        docs, batch = self._fresh(documents)
        with self.store.reading():
            self._sync()
            known = self._known([d.id for d in docs], exact)
            fresh = batch.without(set(known))
            area = self._neighbourhood(fresh, []) if exact else self._quick(fresh)
        ids = self._cluster_ids(area)
        matches = self._matches(area, ids, [i is None for i in ids], range(len(area.batch.docs)))
        return self._in_order(docs, batch, {**known, **matches})

    def remove(self, ids: Sequence[str]) -> int:
        """Remove the documents ``ids`` (unknown ids are ignored); their clusters are
        re-clustered without them. Returns how many were removed."""
        with self.store.writing():
            self._sync()
            rows = list(self.store.rows_of(list(ids)).values())
            gone = self.store.docs(rows)
            if not gone:
                return 0
            left = sorted(set(self.store.members(sorted({d.cluster for d in gone}))) - set(rows))
            self.store.delete(rows)
            self.store.add_df(self._buckets(shingle_keys([d.key for d in gone], self.settings.ngram)), -1)
            self._commit(self._neighbourhood(self._empty, self.store.docs(left)), None, dropped={d.cluster for d in gone})
        return len(gone)

    def load(self, progress: Progress | None = None) -> int:
        """Compute the band keys of the stored documents this process has not taken in yet
        (every one, on a newly opened index), as the next operation would, and read the
        document-frequency counters (SQLite keeps them until another process writes), which
        operations would otherwise read a page at a time; ``progress`` is told how it
        advances (stage ``load``). Returns how many documents were taken in."""
        with self.store.reading():
            taken = self._sync(progress)
            self.store.keep_counters(1 << self.df_bits)
            return taken

    def stats(self) -> dict[str, object]:
        """Counts (documents, clusters, duplicates, largest cluster), bytes, and the settings."""
        with self.store.reading():
            counts = self.store.counts()
            header = self.store.header() or {}
        per_doc = (counts["bytes"] - counts["text_bytes"]) / counts["documents"] if counts["documents"] else 0.0
        return {**counts, "bytes_per_document_beyond_text": round(per_doc, 1), "location": self.location,
                "settings": {k: json.loads(v) for k, v in header.items() if k != "next_cluster"}}

    def clusters(self) -> Iterator[dict[str, object]]:
        """Every stored cluster: id, canonical id, size and members with their similarity."""
        with self.store.reading():
            for cluster_id, canonical, members in self.store.clusters():
                yield {
                    "cluster_id": cluster_id,
                    "canonical_id": canonical,
                    "size": len(members),
                    "members": [{"doc_id": i, "similarity": s} for i, s in members],
                }

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- placement ------------------------------------------------------------------------

    def _sync(self, progress: Progress | None = None) -> int:
        """Take in the band keys of documents other processes stored since we last looked
        (all of them when the index was just opened), computed from their stored text;
        how many documents that was."""
        total = self.store.count_since(self._seen) if progress else 0
        done = 0
        owners, bands = [np.zeros(0, dtype=np.int64)], [np.zeros((0, self.settings.bands.bands), dtype=np.uint32)]
        for rows, keys in self.store.keys_since(self._seen):
            if rows:
                chunk_owners, chunk_bands = _looked_up(sign_keys(keys, self.settings, self.hasher, windows=False)[1])
                owners.append(np.asarray(rows, dtype=np.int64)[chunk_owners])
                bands.append(chunk_bands)
                self._seen = rows[-1]
                done += len(rows)
                if progress:
                    progress("load", done, max(total, done))
        self._table.add(np.concatenate(owners), np.concatenate(bands))  # one sorted run
        return done

    def _fresh(self, documents: Iterable[Document] | Batch) -> tuple[list[Document], Batch]:
        """The input documents, and the batch of those not stored yet (prepared)."""
        if isinstance(documents, Batch):
            return documents.docs, documents
        docs = list(documents)
        stored = self.store.rows_of([d.id for d in docs])
        return docs, self.prepare([d for d in docs if d.id not in stored])

    def _known(self, ids: list[str], exact: bool) -> dict[str, Match]:
        """Matches for the documents among ``ids`` that are already stored: re-clustered with
        their neighbourhood, or (not ``exact``) where they sit as stored, without evidence."""
        rows = self.store.rows_of(ids)
        if not rows:
            return {}
        if not exact:
            return {p.id: Match(p.id, p.cluster, False, p.canonical, p.similarity, None, p.parent, already_stored=True)
                    for p in self.store.places(sorted(rows.values())).values()}
        area = self._neighbourhood(self._empty, self.store.docs(sorted(rows.values())))
        ids = self._cluster_ids(area)
        wanted = {p for p, d in enumerate(area.docs) if d.id in rows}
        placed = self._matches(area, ids, [False] * len(ids), wanted)
        return {i: dataclasses.replace(m, already_stored=True) for i, m in placed.items() if i in rows}

    def _buckets(self, shingles: ShingleSets) -> np.ndarray:
        return (shingles.values >> np.uint64(64 - self.df_bits)).astype(np.int64)

    def _neighbourhood(self, batch: Batch, seeds: list[StoredDoc]) -> _Neighbourhood:
        """Find the stored clusters ``batch`` (and ``seeds``) verify against, grow to a fixed
        point, and re-cluster all of it."""
        area = _Area(self, batch)
        n = len(batch.docs)
        inside = set(range(n)) | set(area.include(seeds))
        frontier = sorted(inside)
        while frontier and len(inside) - n <= self.max_local:
            hits = self._verified_hits(area, frontier, inside)
            if not hits:
                break
            rows = self.store.members(sorted({area.stored[p - n].cluster for p in hits}))
            frontier = sorted(set(area.fetch(rows).values()) - inside)
            inside.update(frontier)
        kept = sorted((p for p in inside if p >= n), key=lambda p: area.stored[p - n].row)
        stored = [area.stored[p - n] for p in kept]
        shingles, flags, rows = area.take(np.arange(n).tolist() + kept)
        grouping = group_signed(shingles, rows, _provenance(batch, stored), self.settings, flags=flags)
        return _Neighbourhood(batch, stored, grouping)

    def _quick(self, batch: Batch) -> _Neighbourhood:
        """The quick placement (``exact=False``) of ``batch``: a group per stored cluster its
        documents join (:meth:`_joined`), and the documents that join none clustered among
        themselves. Only the canonicals are fetched, and only shingled."""
        area = _Area(self, batch, signed=False)
        n = len(batch.docs)
        pairs, shared, sizes = self._closest_canonicals(area, n)
        provenance = _provenance(batch, area.stored)
        groups = self._joined(area, pairs, shared, provenance)
        groups += self._among_themselves(area, np.setdiff1d(np.arange(n), pairs[:, 1]), provenance)
        outside = {area.stored[head - n].cluster: sizes[head] - 1 for head in set(pairs[:, 0].tolist())}
        shingles = area.joined()[0]
        comparable = shingles.words >= self.settings.min_words
        return _Neighbourhood(batch, area.stored, Grouping(groups, shingles, comparable, len(pairs), len(pairs)), outside)

    def _joined(self, area: _Area, pairs: np.ndarray, shared: np.ndarray, provenance: Provenance) -> list[Group]:
        """A group per stored canonical of ``pairs`` (``(canonical, document)``, sharing
        ``shared`` shingles): the canonical and the documents joining it, each scored against
        the group's canonical, which is the stored one unless a document joining it is the more
        complete of the two (:func:`pair_canonicals`; of several such, the one
        :func:`choose_canonical` picks among them)."""
        shingles, flags = area.joined()
        joining: dict[int, list[int]] = {}  # stored canonical -> the documents joining it
        wins: dict[int, list[tuple[int, float, str]]] = {}  # -> those more complete: (document, coverage, why)
        coverage = pair_coverage(pairs, shared, shingles)
        chosen = pair_canonicals(pairs, coverage, shingles, provenance)
        for (head, q), cover, (canonical, reason) in zip(pairs.tolist(), coverage[:, 1].tolist(), chosen):
            joining.setdefault(head, []).append(q)
            if canonical == q:
                wins.setdefault(head, []).append((q, cover, reason))
        centres, reasons, members = [], [], []
        for head, qs in joining.items():
            centre, reason = head, "stored canonical"
            if len(wins.get(head, ())) == 1:
                centre, _, reason = wins[head][0]
            elif head in wins:
                found, cover, _ = zip(*wins[head])
                centre, reason = choose_canonical(np.array(found), np.array(cover), shingles, provenance)
            centres.append(centre)
            reasons.append(reason)
            members.append([centre] + [p for p in [head, *qs] if p != centre])
        star = np.array([[c, p] for c, own in zip(centres, members) for p in own], dtype=np.int64).reshape(-1, 2)
        scores = score_pairs(shingles, star, flags, self.settings.min_specific)
        bounds = np.cumsum([0] + [len(own) for own in members]).tolist()
        return [Group(c, star[lo:hi, 1], scores.take(np.arange(lo, hi)), reason)
                for c, reason, lo, hi in zip(centres, reasons, bounds, bounds[1:])]

    def _among_themselves(self, area: _Area, positions: np.ndarray, provenance: Provenance) -> list[Group]:
        """The groups of the batch ``positions`` clustered among themselves as a batch run would."""
        if positions.size < 2:
            return [alone(int(p), area.joined()[0]) for p in positions]
        shingles, flags, rows = area.take(positions.tolist())
        grouping = group_signed(shingles, rows, provenance.take(positions.tolist()), self.settings, flags=flags)
        return [Group(int(positions[g.canonical]), positions[g.members], g.scores, g.reason) for g in grouping.groups]

    def _closest_canonicals(self, area: _Area, n: int) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
        """``(canonical, document)`` position pairs in ``area``: for each of the first ``n``
        positions that verifies against one, the canonical of a cluster of a stored document
        its band keys find that it is most similar to (the lowest cluster id on a tie); the
        shingles each pair shares; and the size of each canonical's cluster, by position."""
        owner, found = self._candidates(area, list(range(n)))
        rows = distinct(found)
        canonical = self.store.canonicals(rows.tolist())  # removed rows are left out
        where = area.fetch(sorted({c for c, _ in canonical.values()}))
        sizes = {where[c]: size for c, size in canonical.values() if c in where}
        heads = _mapped(found, rows, {r: where.get(c, -1) for r, (c, _) in canonical.items()})
        pairs = _distinct_pairs(owner[heads >= 0], heads[heads >= 0], len(area.keys))
        shingles, flags = area.joined()
        scores = score_pairs(shingles, pairs, flags, self.settings.min_specific)
        fits = accepts(self.settings.thresholds, shingles.sizes[pairs[:, 0]], shingles.sizes[pairs[:, 1]], scores)
        best: dict[int, tuple[float, int, int, int]] = {}  # document -> (-similarity, cluster, canonical, pair)
        for k in np.flatnonzero(fits).tolist():
            q, head = int(pairs[k, 0]), int(pairs[k, 1])
            rank = (-max(float(scores.jaccard[k]), float(scores.containment[k])), area.stored[head - n].cluster, head, k)
            best[q] = min(best.get(q, rank), rank)
        chosen = np.array([best[q][3] for q in sorted(best)], dtype=np.int64)
        return pairs[chosen][:, ::-1], scores.shared[chosen], sizes

    def _candidates(self, area: _Area, frontier: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The stored rows the band keys of the ``frontier`` positions find, and for each
        the position that found it (an entry per band that matched)."""
        bands = [area.bands[p] for p in frontier]
        sizes = [len(b) for b in bands]
        if not sum(sizes):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        rows = np.vstack(bands)
        owner = np.repeat(np.repeat(np.asarray(frontier, dtype=np.int64), sizes), rows.shape[1])
        at, found = self._table.lookup(combine(rows), self.settings.max_bucket)
        return owner[at], found

    def _verified_hits(self, area: _Area, frontier: list[int], inside: set[int]) -> list[int]:
        """Positions (in ``area``) of the stored documents outside ``inside`` that verify
        against one of the ``frontier`` positions."""
        owner, found = self._candidates(area, frontier)
        rows = distinct(found)
        where = _mapped(found, rows, area.fetch(rows.tolist()))  # removed rows are not fetched
        keep = where >= 0
        keep[keep] = ~np.isin(where[keep], list(inside))
        if not keep.any():
            return []
        pairs = _distinct_pairs(owner[keep], where[keep], len(area.keys))
        shingles, flags = area.joined()
        edges, _ = verify(shingles, pairs, self.settings.thresholds, flags)
        return distinct(edges[:, 1]).tolist()

    def _cluster_ids(self, area: _Neighbourhood) -> list[int | None]:
        """The stored id each group keeps (the one most of its stored members had), or None."""
        n = len(area.batch.docs)
        taken: set[int] = set()
        ids: list[int | None] = []
        for group in area.grouping.groups:  # largest first
            had = Counter(area.stored[p - n].cluster for p in map(int, group.members) if p >= n)
            choice = min((c for c in had if c not in taken), key=lambda c: (-had[c], c), default=None)
            ids.append(choice)
            if choice is not None:
                taken.add(choice)
        return ids

    def _matches(self, area: _Neighbourhood, ids: list[int | None], new: list[bool],
                 evidence_for: Container[int]) -> dict[str, Match]:
        """The :class:`Match` of every document of ``area``; those at positions
        ``evidence_for`` with their evidence (the others only have their place)."""
        matches = {}
        groups = area.grouping.groups
        shown = [k for k, group in enumerate(groups) if any(p in evidence_for for p in group.members.tolist())]
        made = to_clusters([groups[k] for k in shown], area.docs, KeyTexts.of(area.keys), area.grouping,
                           self.settings.min_words, only=evidence_for)
        for k, cluster in zip(shown, made):
            for m in cluster.members:
                matches[m.doc_id] = Match(m.doc_id, ids[k], new[k], cluster.canonical.id, m.similarity, m.evidence,
                                          m.parent_id)
        for cluster_id, is_new, group in zip(ids, new, groups):
            canonical = area.docs[group.canonical].id
            similarity = np.maximum(group.scores.jaccard, group.scores.containment)
            for pos, sim in zip(group.members.tolist(), similarity.tolist()):
                doc = area.docs[pos]
                if doc.id not in matches:
                    matches[doc.id] = Match(doc.id, cluster_id, is_new, canonical, round(sim, 4), None,
                                            doc.meta.get("parent_id"))
        return matches

    def _commit(self, area: _Neighbourhood, packed: Future[dict[str, bytes]] | None,
                dropped: set[int] = frozenset()) -> tuple[dict[str, Match], list[int]]:
        """Store the batch of ``area`` (``packed``: its texts packed, by id; None when it is
        empty) and the new places of its stored documents; the batch's matches and the rows
        it was stored under."""
        found = self._cluster_ids(area)
        fresh = iter(self.store.new_cluster_ids(sum(i is None for i in found)))
        ids = [i if i is not None else next(fresh) for i in found]
        placed = self._matches(area, ids, [i is None for i in found], range(len(area.batch.docs)))
        batch = area.batch
        texts = packed.result() if packed is not None else {}
        rows = self.store.insert([
            NewDoc(d.id, placed[d.id].cluster_id, placed[d.id].similarity, texts[d.id], removed=r, date=document_date(d),
                   parent=d.meta.get("parent_id"))
            for d, r in zip(batch.docs, batch.removed)
        ])
        stored = [d for d in area.stored if d.id in placed]  # the quick placement fetches some it does not group
        row_of = {d.id: row for d, row in zip(batch.docs, rows)} | {d.id: d.row for d in stored}
        self.store.assign({d.row: (placed[d.id].cluster_id, placed[d.id].similarity) for d in stored})
        sizes = Counter(m.cluster_id for m in placed.values()) + Counter(area.outside)
        self.store.put_clusters({m.cluster_id: (row_of[m.canonical_id], sizes[m.cluster_id]) for m in placed.values()})
        self.store.drop_clusters(sorted(({d.cluster for d in stored} | set(dropped)) - set(ids)))
        if batch.docs:
            self.store.add_df(self._buckets(batch.shingles), 1)
        batch_ids = {d.id for d in batch.docs}
        return {i: m for i, m in placed.items() if i in batch_ids}, rows

    def _remember(self, rows: list[int], bands: list[np.ndarray]) -> None:
        """Take the band keys of documents this process just stored into the table."""
        if rows:
            self._table.add(np.repeat(rows, [len(b) for b in bands]), np.vstack(bands))
            self._seen = max(self._seen, rows[-1])

    @staticmethod
    def _in_order(docs: list[Document], batch: Batch, matches: dict[str, Match]) -> list[Match]:
        """Matches in input order, each prepared document followed by its embedded articles."""
        order = {d.id: k for k, d in enumerate(docs)}
        for d in batch.docs:  # embedded articles come right after their parent, depth first
            if d.id not in order:
                order[d.id] = order[d.meta["parent_id"]]
        return sorted((matches[i] for i in order), key=lambda m: order[m.doc_id])


def _provenance(batch: Batch, stored: list[StoredDoc]) -> Provenance:
    """The canonical choice's facts of the documents of ``batch``, then of ``stored``."""
    return Provenance(
        dates=[document_date(d) for d in batch.docs] + [d.date for d in stored],
        removed=np.array(batch.removed + [d.removed for d in stored], dtype=np.int64),
        ids=[d.id for d in batch.docs] + [d.id for d in stored],
    )


def _mapped(values: np.ndarray, keys: np.ndarray, mapping: dict[int, int]) -> np.ndarray:
    """``mapping`` of each of ``values`` (-1 where it has none), looked up once per
    distinct value: ``keys`` are the distinct ``values``, ascending."""
    mapped = np.array([mapping.get(k, -1) for k in keys.tolist()], dtype=np.int64)
    return mapped[np.searchsorted(keys, values)]


def _distinct_pairs(first: np.ndarray, second: np.ndarray, width: int) -> np.ndarray:
    """The distinct pairs ``(first[i], second[i])`` of positions below ``width``, sorted."""
    codes = distinct(first * width + second)
    return np.stack([codes // width, codes % width], axis=1)


def _packed(batch: Batch) -> dict[str, bytes]:
    """The normalized texts of ``batch`` packed for storage, by document id."""
    codec = KeyCodec()  # its own: this runs on another thread
    return {d.id: codec.pack(k) for d, k in zip(batch.docs, batch.keys)}


def _looked_up(rows: BandRows) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``rows`` the index keeps in its band table, whole texts and leads (not
    windows): their owners, and their band keys cut to 32 bits, ``(rows, bands)`` uint32."""
    leads = rows.leads()
    return leads.owners, (leads.keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def _lead_bands(rows: BandRows, n: int) -> list[np.ndarray]:
    """:func:`_looked_up` per document, for ``n`` documents."""
    owners, keys = _looked_up(rows)
    order = np.argsort(owners, kind="stable")
    return np.split(keys[order], np.searchsorted(owners[order], np.arange(1, n)))


_NO_BANDS = np.zeros((0, 0), dtype=np.uint32)


class _Area:
    """The documents one operation looks at: the batch (positions ``0..n-1``), then each
    stored document when it is first fetched, with its shingle set, common-shingle flags
    and, when ``signed``, band rows, each computed once."""

    def __init__(self, index: Index, batch: Batch, signed: bool = True) -> None:
        self.index = index
        self.signed = signed
        self.keys = list(batch.keys)
        self.bands = list(batch.bands)
        self.stored: list[StoredDoc] = []  # position len(batch) + k
        self._common = _Common(index, batch.shingles)
        self._parts = [(batch.shingles, self._common.batch)]
        self._rows = [(batch.rows, len(batch.docs))]  # band rows, and how many documents they are of
        self._position: dict[int, int] = {}

    def fetch(self, rows: list[int]) -> dict[int, int]:
        """``row -> position`` of the stored ``rows`` (removed ones are left out); rows
        not seen before are fetched."""
        new = sorted(set(rows) - self._position.keys())
        if new:
            self.include(self.index.store.docs(new))
        return {r: self._position[r] for r in rows if r in self._position}

    def include(self, docs: list[StoredDoc]) -> list[int]:
        """Take in stored ``docs`` (those not in yet); the positions of all of them."""
        fresh = list({d.row: d for d in docs if d.row not in self._position}.values())
        if fresh:
            keys = [d.key for d in fresh]
            if self.signed:
                sets, rows = sign_keys(keys, self.index.settings, self.index.hasher)
                self._rows.append((rows, len(fresh)))
                lead_bands = _lead_bands(rows, len(fresh))
            else:  # positions without band rows are never looked up or re-clustered
                sets, lead_bands = shingle_keys(keys, self.index.settings.ngram), [_NO_BANDS] * len(fresh)
            self._parts.append((sets, self._common(sets)))
            for d, bands in zip(fresh, lead_bands):
                self._position[d.row] = len(self.keys)
                self.keys.append(d.key)
                self.bands.append(bands)
                self.stored.append(d)
        return [self._position[d.row] for d in docs]

    def joined(self) -> tuple[ShingleSets, np.ndarray]:
        """The shingle sets and common flags of every position."""
        if len(self._parts) > 1:
            sets, flags = zip(*self._parts)
            self._parts = [(ShingleSets.concat(sets), np.concatenate(flags))]
        return self._parts[0]

    def take(self, positions: list[int]) -> tuple[ShingleSets, np.ndarray, BandRows]:
        """The shingle sets, common flags and band rows of ``positions``, in that order."""
        shingles, flags = self.joined()
        at = segment_positions(shingles.offsets, np.asarray(positions, dtype=np.int64))
        rows = BandRows.concat(*zip(*self._rows)).take(positions)
        return shingles.take(positions), flags[at], rows


class _Common:
    """Which shingles are common (in more than ``common_df`` documents): the stored
    counters plus the batch's own documents. The batch's shingles are spread by hash once
    (:func:`dedup.kernels.spread_values`); the flags of the batch (``batch``) and of stored
    neighbours, as they come, count their shingles among them
    (:func:`dedup.kernels.counts_among`)."""

    def __init__(self, index: Index, batch: ShingleSets) -> None:
        self.index = index
        self._spread = kernels.spread_values(batch.values)
        self.batch = self(batch)

    def _stored(self, values: np.ndarray) -> np.ndarray:
        buckets = (values >> np.uint64(64 - self.index.df_bits)).astype(np.int64)
        return self.index.store.df(buckets)

    def __call__(self, shingles: ShingleSets) -> np.ndarray:
        values = shingles.values
        df = self._stored(values) + kernels.counts_among(*self._spread, values)
        return df > self.index.settings.common_df
