import numpy as np

from dedup.cluster import Provenance, cluster, components
from dedup.shingle import ShingleSets
from dedup.verify import Thresholds, score_pairs, verify


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


def test_coverage_from_shingle_ids_equals_coverage_from_sorting(monkeypatch) -> None:
    import dedup.cluster as cl

    rng = np.random.default_rng(5)
    s = _sets(*(rng.integers(0, 60, size=rng.integers(1, 40)).tolist() for _ in range(30)))
    members = np.sort(rng.choice(30, size=12, replace=False))
    ids = lambda: np.unique(s.values, return_inverse=True)[1]  # noqa: E731
    monkeypatch.setattr(cl, "_COUNT_BY_ID", 2)  # never: sort the component's shingles
    sorted_way = cl._coverage(members, s, ids)
    monkeypatch.setattr(cl, "_COUNT_BY_ID", 0)  # always: count by corpus-wide ids
    assert np.array_equal(cl._coverage(members, s, ids), sorted_way)
    assert sorted_way.max() <= 1 and sorted_way.min() > 0
