import random

import numpy as np
import regex

from dedup.differs import MAX_DIFFERS, KeyTexts, differing_words

_DIGIT = regex.compile(r"\d")


def _reference(member: str, canonical: str) -> tuple[str, ...]:
    """The words that differ, as plain Python sets and sorting give them."""
    mine, theirs = set(member.split()), set(canonical.split())
    marked = [f"+{w}" for w in mine - theirs] + [f"-{w}" for w in theirs - mine]
    marked.sort(key=lambda w: (not _DIGIT.search(w), w))
    return tuple(marked[:MAX_DIFFERS])


def test_differing_words_equal_python_sets_and_sorting() -> None:
    rng = random.Random(3)
    # ASCII and other whitespace, digits of several scripts (some that only \d knows),
    # Arabic, an astral letter, a lone surrogate
    alphabet = list("ab c1٣\u00a0\u2003\x1c\n\t\x85\u3000") + [
        "\ud800", "\U0001d7ce", "\U00011f50", "é", "\u0660", "خبر", "x", "y", "zz", "  "]
    keys = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 50))) for _ in range(300)]
    texts = KeyTexts.of(keys)
    for _ in range(200):
        canonical = rng.randrange(len(keys))
        members = np.array([m for m in rng.sample(range(len(keys)), 12) if m != canonical])
        expected = [_reference(keys[m], keys[canonical]) for m in members]
        assert differing_words(texts, members, canonical) == expected


def test_one_call_for_many_canonicals_gives_what_one_call_each_gives() -> None:
    rng = random.Random(5)
    words = ["خبر", "وزير", "2024", "٣", "news", "a", "b", "c"]
    keys = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 30))) for _ in range(60)]
    texts = KeyTexts.of(keys)
    canonicals = np.array([c for c in rng.sample(range(60), 12) for _ in range(rng.randint(1, 4))])
    members = np.array([rng.randrange(60) for _ in canonicals])
    expected = [differing_words(texts, [m], int(c))[0] for m, c in zip(members, canonicals)]
    assert differing_words(texts, members, canonicals) == expected
    assert expected == [_reference(keys[m], keys[c]) for m, c in zip(members, canonicals)]


def test_no_members_no_words() -> None:
    assert differing_words(KeyTexts.of(["a b"]), np.zeros(0, dtype=np.int64), 0) == []


def test_separator_classes_are_the_code_points_str_split_splits_at() -> None:
    from dedup.differs import _SEPARATES, _classes

    flagged = np.flatnonzero(_classes() & _SEPARATES).tolist()
    assert flagged == [cp for cp in range(0x110000) if chr(cp).isspace()]
