import numpy as np

from dedup.cluster import Provenance, cluster, components
from dedup.shingle import ShingleSets, offsets_of
from dedup.verify import Thresholds, accepts, score_pairs, verify


def _sets(*members: list[int]) -> ShingleSets:
    values = [np.array(sorted(set(m)), dtype=np.uint64) for m in members]
    offsets = np.concatenate(([0], np.cumsum([v.size for v in values])))
    return ShingleSets(np.concatenate(values), offsets, np.array([v.size + 2 for v in values]))


def _provenance(n: int) -> Provenance:
    return Provenance([None] * n, np.zeros(n, dtype=int))


def test_exact_scores() -> None:
    s = _sets(list(range(100)), list(range(50, 150)), list(range(50)))
    sc = score_pairs(s, np.array([[0, 1], [0, 2]]))
    assert list(sc.shared) == [50, 50]
    assert np.allclose(sc.jaccard, [50 / 150, 0.5])
    assert np.allclose(sc.containment, [0.5, 1.0])


def test_edge_needs_a_threshold() -> None:
    s = _sets(list(range(100)), list(range(50, 150)), list(range(50)))
    edges, _ = verify(s, np.array([[0, 1], [0, 2]]), Thresholds(jaccard=0.5, containment=0.9))
    assert [tuple(e) for e in edges] == [(0, 2)]  # the truncated copy, by containment


def test_near_empty_documents_never_get_edges() -> None:
    s = _sets([1, 2], [1, 2], [3])
    edges, _ = verify(s, np.array([[0, 1]]), Thresholds())
    assert len(edges) == 0


def test_components_are_order_independent() -> None:
    a = components(5, np.array([[3, 4], [0, 1]]))
    b = components(5, np.array([[1, 0], [4, 3]]))
    assert np.array_equal(a, b)
    assert list(a) == [0, 0, 2, 3, 3]


def test_components_label_each_node_with_the_smallest_node_it_reaches() -> None:
    rng = np.random.default_rng(3)
    n = 300
    edges = rng.integers(0, n, size=(260, 2))
    neighbours: dict[int, set[int]] = {i: set() for i in range(n)}
    for a, b in edges.tolist():
        neighbours[a].add(b)
        neighbours[b].add(a)
    expected = []
    for start in range(n):  # breadth-first search: the smallest node reachable
        seen, todo = {start}, [start]
        while todo:
            for nxt in neighbours[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        expected.append(min(seen))
    assert components(n, edges).tolist() == expected
    assert components(n, edges[::-1]).tolist() == expected


def test_chain_is_cut_where_members_stop_matching_the_canonical() -> None:
    # A-B, B-C and C-D overlap by 70 %; A-C and B-D by 40 %, A-D not at all.
    s = _sets(*(list(range(k, k + 100)) for k in (0, 30, 60, 90)))
    t = Thresholds(jaccard=0.5, containment=0.95)
    pairs = np.array([[i, j] for i in range(4) for j in range(i + 1, 4)])
    edges, _ = verify(s, pairs, t)
    assert sorted(map(tuple, edges)) == [(0, 1), (1, 2), (2, 3)]
    groups = cluster(4, edges, s, t, _provenance(4))
    # B and C hold the most shared text (B first); D does not verify against B
    assert [sorted(map(int, g.members)) for g in groups] == [[0, 1, 2], [3]]
    assert groups[0].canonical == 1
    assert (groups[0].scores.jaccard >= 0.5).all()


def test_canonical_is_the_most_complete_copy() -> None:
    full = list(range(200))
    s = _sets(full[:120], full, full[:150])
    t = Thresholds()
    edges, _ = verify(s, np.array([[0, 1], [0, 2], [1, 2]]), t)
    (group,) = cluster(3, edges, s, t, _provenance(3))
    assert group.canonical == 1
    assert "most complete" in group.reason
    assert group.members[0] == 1


def test_ties_go_to_the_earliest_date() -> None:
    s = _sets(list(range(100)), list(range(100)))
    t = Thresholds()
    edges, _ = verify(s, np.array([[0, 1]]), t)
    (group,) = cluster(2, edges, s, t, Provenance(["2015-08-02", "2015-07-30"], np.zeros(2, dtype=int)))
    assert group.canonical == 1
    assert "earliest date 2015-07-30" in group.reason


def test_template_family_is_rejected_but_copies_are_kept() -> None:
    from dedup.verify import common_mask

    frame = list(range(60))  # a cable template shared by 40 items of the family
    family = [frame + list(range(1000 + 20 * k, 1000 + 20 * k + 15)) for k in range(40)]
    story = list(range(5000, 5075))
    s = _sets(*family, story, story[:70] + [9000, 9001])  # the last two: a story and its copy
    t = Thresholds(jaccard=0.5, containment=0.8, specific=0.45)
    common = common_mask(s, 30)
    assert set(map(int, s.values[common])) == set(frame)
    pairs = np.array([[0, 1], [40, 41]])
    sc = score_pairs(s, pairs, common)
    assert sc.containment[0] == 0.8 and sc.specific[0] == 0.0
    assert sc.specific[1] > 0.9
    edges, _ = verify(s, pairs, t, common)
    assert [tuple(e) for e in edges] == [(40, 41)]
    # without corpus frequencies the template pair would pass
    assert len(verify(s, pairs, t)[0]) == 2


def test_too_few_specific_shingles_fall_back_to_containment() -> None:
    from dedup.verify import common_mask

    wire = list(range(100))
    s = _sets(*([wire] * 35))  # reprinted by every outlet: nothing is specific
    common = common_mask(s, 30)
    sc = score_pairs(s, np.array([[0, 1]]), common)
    assert np.isnan(sc.specific[0])
    assert len(verify(s, np.array([[0, 1]]), Thresholds(), common)[0]) == 1


def test_a_member_follows_its_best_match_rather_than_a_roundup() -> None:
    # K is a roundup holding X's statement and two other statements; Y is a re-edit of X
    # that K does not contain. X must end up with Y, not inside the roundup's star.
    x = list(range(0, 100))
    y = list(range(15, 115))
    z1, z2 = list(range(1000, 1100)), list(range(2000, 2100))
    k = x[:80] + z1 + z2 + list(range(3000, 3150))
    s = _sets(k, x, y, z1, z2)
    t = Thresholds(jaccard=0.5, containment=0.75, specific=0.0)
    pairs = np.array([[i, j] for i in range(5) for j in range(i + 1, 5)])
    edges, sc = verify(s, pairs, t)
    assert sorted(map(tuple, edges)) == [(0, 1), (0, 3), (0, 4), (1, 2)]
    star_only = cluster(5, edges, s, t, _provenance(5))
    assert sorted(map(int, star_only[0].members)) == [0, 1, 3, 4]  # X pulled into the roundup
    groups = cluster(5, edges, s, t, _provenance(5), edge_jaccard=sc.jaccard)
    assert sorted(sorted(map(int, g.members)) for g in groups) == [[0, 3, 4], [1, 2]]


def test_best_match_runs_to_a_fixed_point() -> None:
    # 4 is the most complete and verifies with 0, 1 and 3; 0 prefers its closer match 2 and
    # leaves 4's star; 3's best match is 0, so once 0 has left, 3 must follow it. A single
    # pass keeps 3 with 4 ([[0, 2], [1, 3, 4]]).
    s = _sets(list(range(90, 270)), list(range(0, 50)), list(range(180, 270)), list(range(50, 200)),
              list(range(10, 160)) + list(range(230, 350)))
    t = Thresholds(jaccard=0.5, containment=0.6, specific=0.0)
    pairs = np.array([[i, j] for i in range(5) for j in range(i + 1, 5)])
    edges, sc = verify(s, pairs, t)
    groups = cluster(5, edges, s, t, _provenance(5), edge_jaccard=sc.jaccard)
    assert sorted(sorted(map(int, g.members)) for g in groups) == [[0, 2, 3], [1, 4]]
    for g in groups:
        assert (g.scores.jaccard >= 0.5).all() or (g.scores.containment >= 0.6).all()


def _reference_groups(n: int, edges: np.ndarray, s: ShingleSets, t: Thresholds, provenance: Provenance,
                      common: np.ndarray, weights: np.ndarray) -> list[tuple[int, list[int]]]:
    """The chain guard done the plain way: every cut recomputes coverage over the whole
    component, scores every member, and re-splits the rest into components."""
    def parts(members: np.ndarray, own: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        labels = components(n, edges[own])[members]
        return [(members[labels == r], own[np.isin(edges[own, 0], members[labels == r])]) for r in np.unique(labels)]

    groups, pending = [], parts(np.arange(n), np.arange(len(edges)))
    while pending:
        members, own = pending.pop()
        if members.size == 1:
            groups.append((int(members[0]), [int(members[0])]))
            continue
        entries = np.concatenate([s[int(m)] for m in members])
        _, where, support = np.unique(entries, return_inverse=True, return_counts=True)
        ends = np.cumsum(s.sizes[members])
        coverage = np.add.reduceat(support[where], ends - s.sizes[members]) / entries.size
        near = np.flatnonzero(coverage >= coverage.max() - 0.002)
        if near.size == 1:
            near = np.argsort(-coverage, kind="stable")[:2]
        keys = {int(members[i]): (-round(float(coverage[i]), 3), provenance.dates[members[i]] or "\uffff",
                                  int(provenance.removed[members[i]]), -int(s.sizes[members[i]]), int(members[i]))
                for i in near}
        canonical = min(keys, key=keys.__getitem__)
        sc = score_pairs(s, np.stack([np.full(members.size, canonical), members], axis=1), common, t.min_specific)
        fits = accepts(t, np.full(members.size, s.sizes[canonical]), s.sizes[members], sc) | (members == canonical)
        while True:
            star = set(members[fits].tolist())
            best = dict.fromkeys(star, 0.0)
            for (a, b), w in zip(edges[own].tolist(), weights[own]):
                if (a in star) != (b in star):
                    inside = a if a in star else b
                    best[inside] = max(best[inside], w)
            leave = [i for i, m in enumerate(members.tolist()) if fits[i] and m != canonical and best[m] > sc.jaccard[i]]
            if not leave:
                break
            fits[leave] = False
        groups.append((canonical, [canonical] + [int(m) for m in members[fits] if m != canonical]))
        rest = members[~fits]
        if rest.size:
            pending.extend(parts(rest, own[np.isin(edges[own], rest).all(axis=1)]))
    return sorted(groups)


def test_incremental_cuts_equal_the_plain_chain_guard() -> None:
    # chains of near-copies built from shared "frames", with edges missing (as LSH misses
    # them), under thresholds that also admit members sharing nothing with the canonical
    rng = np.random.default_rng(11)
    for case in range(40):
        n = int(rng.integers(5, 80))
        frames = [rng.integers(0, 300, size=int(rng.integers(5, 40))) for _ in range(int(rng.integers(2, 8)))]
        docs = []
        for d in range(n):
            picked = rng.choice(len(frames), size=int(rng.integers(1, 4)))
            own = 1000 + 10 * d + rng.integers(0, 10, size=int(rng.integers(0, 8)))
            docs.append(np.concatenate([frames[f][rng.random(frames[f].size) < 0.9] for f in picked] + [own]).tolist())
        s = _sets(*docs)
        t = Thresholds(jaccard=[0.5, 0.3, 0.0, 0.6][case % 4], containment=[0.45, 0.0, 0.6][case % 3],
                       specific=[0.2, 0.0][case % 2], min_shingles=3, min_contained=5, min_specific=4)
        common = rng.random(s.values.size) < 0.2
        pairs = np.array([[i, j] for i in range(n) for j in range(i + 1, n)])
        edges, sc = verify(s, pairs, t, common)
        kept = rng.random(len(edges)) < 0.6
        edges, weights = edges[kept], sc.jaccard[kept]
        dates = [None if rng.random() < 0.3 else f"2020-01-{int(rng.integers(1, 3)):02d}" for _ in range(n)]
        provenance = Provenance(dates, rng.integers(0, 2, size=n))
        groups = cluster(n, edges, s, t, provenance, common, weights)
        found = sorted((g.canonical, g.members.tolist()) for g in groups)
        assert found == _reference_groups(n, edges, s, t, provenance, common, weights)
        for g in groups:
            expected = score_pairs(s, np.stack([np.full(g.members.size, g.canonical), g.members], axis=1), common,
                                   t.min_specific)
            assert np.array_equal(g.scores.jaccard, expected.jaccard) and np.array_equal(g.scores.shared, expected.shared)


def test_two_document_components_equal_the_plain_chain_guard() -> None:
    from dedup.cluster import _cut, _Piece

    # components of two, scored in one batch: edges that verify and edges that do not
    # (an index's stored edges, say), ties on coverage broken by date and stripping
    rng = np.random.default_rng(5)
    docs = []
    for _ in range(60):
        base = rng.integers(0, 10_000, size=int(rng.integers(5, 60)))
        docs.append(base.tolist())
        docs.append(np.concatenate([base[rng.random(base.size) < rng.random()], rng.integers(0, 10_000, size=3)]).tolist())
    s = _sets(*docs)
    n = len(docs)
    t = Thresholds(jaccard=0.5, containment=0.8, specific=0.3, min_shingles=3, min_contained=5, min_specific=4)
    edges = np.arange(n).reshape(-1, 2)
    weights = rng.random(len(edges))
    common = rng.random(s.values.size) < 0.1
    provenance = Provenance([None if rng.random() < 0.5 else "2020-01-01" for _ in range(n)], rng.integers(0, 2, size=n))
    groups = cluster(n, edges, s, t, provenance, common, weights)
    assert sorted((g.canonical, g.members.tolist()) for g in groups) == _reference_groups(
        n, edges, s, t, provenance, common, weights)
    assert 0 < sum(g.members.size == 1 for g in groups) < n  # some pairs split, some kept
    by_canonical = {g.canonical: g for g in groups}
    for edge, weight in zip(edges, weights):  # each pair's group as a piece's first cut makes it
        cut = _cut(_Piece(edge, edge[None], np.array([weight]), s), s, t, provenance, common)
        g = by_canonical[cut.canonical]
        assert (g.reason, g.members.tolist()) == (cut.reason, cut.members.tolist())
        for field in ("shared", "jaccard", "containment", "specific"):
            assert np.array_equal(getattr(g.scores, field), getattr(cut.scores, field), equal_nan=True)


def test_leaders_are_the_members_near_the_best_coverage_as_members_leave() -> None:
    from dedup.cluster import _NEAR, _Piece

    rng = np.random.default_rng(7)
    for _ in range(20):
        n = int(rng.integers(2, 40))
        s = _sets(*(rng.integers(0, 30, size=int(rng.integers(1, 25))).tolist() for _ in range(n)))
        piece = _Piece(np.arange(n), np.zeros((0, 2), dtype=np.int64), np.zeros(0), s)
        alive = np.arange(n)
        while alive.size >= 2:
            entries = np.concatenate([s[int(m)] for m in alive])
            _, where, support = np.unique(entries, return_inverse=True, return_counts=True)
            ends = np.cumsum(s.sizes[alive])
            coverage = np.add.reduceat(support[where], ends - s.sizes[alive]) / max(entries.size, 1)
            near = np.flatnonzero(coverage >= coverage.max() - _NEAR)
            if near.size == 1:
                near = np.argsort(-coverage, kind="stable")[:2]
            rows, found = piece.leaders()
            assert sorted(rows.tolist()) == sorted(alive[near].tolist())
            assert np.array_equal(found[np.argsort(rows)], coverage[np.sort(near)])
            gone = rng.choice(alive, size=int(rng.integers(1, alive.size)), replace=False)
            piece.drop(gone)
            alive = np.setdiff1d(alive, gone)


def test_common_mask_counts_documents_like_numpy() -> None:
    from dedup.kernels import member_mask
    from dedup.verify import common_mask

    rng = np.random.default_rng(3)
    pool = rng.integers(0, 2**64, 300, dtype=np.uint64)  # shared values: many near the cut
    docs = [np.unique(rng.choice(pool, rng.integers(1, 120))) for _ in range(200)]
    s = ShingleSets(np.concatenate(docs), offsets_of([len(d) for d in docs]), np.array([len(d) for d in docs]))
    values, counts = np.unique(s.values, return_counts=True)
    for common_df in (0, 30, 45, 10_000):
        expected = np.isin(s.values, values[counts > common_df])
        assert np.array_equal(common_mask(s, common_df), expected)
    assert not member_mask(s.values, np.zeros(0, dtype=np.uint64)).any()


def test_is_member_is_membership_with_few_members_and_with_many() -> None:
    from dedup.verify import is_member

    rng = np.random.default_rng(5)
    members = np.unique(rng.integers(0, 2**64, 5_000, dtype=np.uint64))
    absent = rng.integers(0, 2**64, 3_000, dtype=np.uint64)
    edges = np.array([0, members[0], members[-1], 2**64 - 1], dtype=np.uint64)  # both ends and beyond
    for n in (100, 20_000):  # fewer values than members: sorted and walked; more: a table
        values = np.concatenate([rng.choice(members, n // 2), rng.choice(absent, n // 2), edges])
        assert np.array_equal(is_member(values, members), np.isin(values, members))
    assert not is_member(np.zeros(0, dtype=np.uint64), members).size


def test_common_values_equal_numpy_counts_over_many_buckets() -> None:
    from dedup.verify import common_values

    rng = np.random.default_rng(4)
    rare = rng.integers(0, 2**64, 60_000, dtype=np.uint64)
    repeated = np.repeat(rare[:3_000], rng.integers(1, 9, 3_000))  # counts around the cut
    values = np.concatenate([rare, repeated, np.full(5_000, 7, dtype=np.uint64)])  # one value everywhere
    rng.shuffle(values)
    distinct, counts = np.unique(values, return_counts=True)
    for above in (-1, 0, 3, 5, 4_999, 5_000):
        assert np.array_equal(common_values(values, above), distinct[counts > above])
    assert common_values(np.zeros(0, dtype=np.uint64), 1).size == 0
