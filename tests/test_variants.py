"""Each seed clusters with its own variants and never with another seed."""

from __future__ import annotations

import random

import pytest

from dedup import Document, find_clusters

HAMZA_DROP = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا"})
HARAKAT = ["\u064e", "\u064f", "\u0650", "\u0651", "\u0652"]
CHROME = [
    "تاريخ النشر: 12th, March 2025 GMT",
    "أخبار ذات صلة",
    "المصدر: وكالات",
    "شارك على فيسبوك",
    "إعلان",
]


def truncated(text: str) -> str:
    half = text[: len(text) // 2]
    return half[: half.rfind(" ")]


def respelled(text: str, rng: random.Random) -> str:
    out = []
    for word in text.translate(HAMZA_DROP).split(" "):
        word = word.replace("ى", "\0").replace("ي", "ى").replace("\0", "ي").replace("ة", "ه")
        if len(word) > 3 and rng.random() < 0.2:
            word = word[:2] + "ـــ" + word[2:]
        if word and rng.random() < 0.2:
            word = word[0] + rng.choice(HARAKAT) + word[1:]
        out.append(word)
    return " ".join(out)


def retitled(text: str) -> str:
    first, _, rest = text.partition("\n")
    return "عنوان جديد مختلف تماما عن الأصل\n" + rest


def edited(text: str, rng: random.Random) -> str:
    paragraphs = text.split("\n")
    for k, para in enumerate(paragraphs):
        words = para.split(" ")
        if len(words) > 12:
            for _ in range(max(1, len(words) // 30)):
                words[rng.randrange(len(words))] = rng.choice(["وأضاف", "كذلك", "أيضا", "حاليا"])
            paragraphs[k] = " ".join(words)
    return "\n".join(paragraphs)


def with_chrome(text: str) -> str:
    return "\n".join(CHROME[:2]) + "\n" + text + "\n" + "\n".join(CHROME[2:])


def variants(doc: Document) -> list[Document]:
    rng = random.Random(doc.id)
    texts = {
        "half": truncated(doc.text),
        "respelled": respelled(doc.text, rng),
        "retitled": retitled(doc.text),
        "edited": edited(doc.text, rng),
        "chrome": with_chrome(doc.text),
        "all": with_chrome(edited(respelled(retitled(doc.text), rng), rng)),
    }
    return [Document(f"{doc.id}~{name}", text) for name, text in texts.items()]


def _root(doc_id: str, parents: dict[str, str | None]) -> str:
    while parents.get(doc_id):
        doc_id = parents[doc_id]  # type: ignore[assignment]
    return doc_id.split("~")[0]


def seeds_and_variants(seed_docs: list[Document], shuffle: int | None = None) -> list[Document]:
    """The seeds and their variants (in a shuffled order, when a seed for the shuffle is given)."""
    docs = list(seed_docs)
    for seed in seed_docs:
        docs.extend(variants(seed))
    if shuffle is not None:
        random.Random(shuffle).shuffle(docs)
    return docs


def with_provenance(docs: list[Document], month: int) -> list[Document]:
    """``docs`` from two sources (templates are learned) with dates (the canonical choice uses them)."""
    return [Document(d.id, d.text, source=f"site{i % 2}", date=f"2025-{month:02d}-{i % 28 + 1:02d}")
            for i, d in enumerate(docs)]


@pytest.fixture(scope="module")
def corpus(seed_docs) -> list[Document]:
    return seeds_and_variants(seed_docs)


def test_variants_are_really_different(seed_docs) -> None:
    for seed in seed_docs:
        for v in variants(seed):
            assert v.text != seed.text


def test_each_seed_clusters_with_its_variants_only(corpus, seed_docs) -> None:
    result = find_clusters(corpus)
    parents = {d.id: d.meta.get("parent_id") for d in result.documents.values()}
    by_seed: dict[str, set[int]] = {}
    for c in result.clusters:
        roots = {_root(m.doc_id, parents) for m in c.members}
        assert len(roots) == 1, f"cluster {c.id} mixes seeds {roots}"
        by_seed.setdefault(roots.pop(), set()).add(c.id)
    for seed in seed_docs:
        cluster_of = {m.doc_id: c.id for c in result.clusters for m in c.members}
        ids = {cluster_of[seed.id]} | {cluster_of[v.id] for v in variants(seed)}
        assert len(ids) == 1, f"{seed.id} and its variants are split over clusters {ids}"


def test_every_document_is_in_exactly_one_cluster(corpus) -> None:
    result = find_clusters(corpus)
    seen = [m.doc_id for c in result.clusters for m in c.members]
    assert sorted(seen) == sorted(result.documents)
    assert {d.id for d in corpus} <= set(seen)


def test_seeds_are_five_different_stories(seed_docs) -> None:
    result = find_clusters(seed_docs)
    assert len([c for c in result.clusters if "parent_id" not in c.canonical.meta]) == 5
    assert all(c.size == 1 for c in result.clusters)


@pytest.mark.parametrize("texts", [["", "", "", "", ""], ["كلمة", "كلمة", "word", "word", "كلمة"], ["", "a", "", "b", " "]])
def test_empty_or_one_word_documents_are_singletons_with_a_reason(texts) -> None:
    docs = [Document(f"d{i}", t) for i, t in enumerate(texts)]
    result = find_clusters(docs)
    assert len(result.clusters) == 5
    for c in result.clusters:
        assert c.size == 1
        assert c.reason.startswith("too short")


def test_duplicate_ids_are_refused(seed_docs) -> None:
    from dedup import DuplicateIdError

    with pytest.raises(DuplicateIdError, match="000_"):
        find_clusters([seed_docs[0], seed_docs[0]])
