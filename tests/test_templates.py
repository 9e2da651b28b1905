"""Tests for per-site template learning."""

from __future__ import annotations

import pickle

from dedup.boilerplate import Templates, learn_templates, strip
from dedup.model import Document


TOPICS = ["harbour", "railway", "library", "vineyard", "stadium", "orchard", "glacier", "museum", "bakery",
          "factory", "hospital", "airport", "festival", "election"]


def story(k: int) -> str:
    w = TOPICS[k % len(TOPICS)] + " " + TOPICS[(k * 5 + 3) % len(TOPICS)]
    return (f"Story about the {w} begins with a unique lead that nobody else has written before today.\n"
            f"The second paragraph on the {w} gives more detail about the event and quotes an official.\n")


FOOTER = "Send your news tips to our newsroom at any time"
WIRE = "The agency said the royal decree appointing the new minister was issued on Sunday evening in the capital."


def _docs():
    docs = []
    for k in range(6):
        docs.append(Document(id=f"a{k}", text=story(k) + FOOTER + "\n" + WIRE + "\n", source="site-a"))
    for k in range(6, 12):
        docs.append(Document(id=f"b{k}", text=story(k) + WIRE + "\n", source="site-b"))
    return docs


def test_template_lines_learned_and_removed():
    t = learn_templates(_docs(), min_stories=3)
    assert isinstance(t, Templates)
    text = story(99) + FOOTER + "\n"
    s = strip(text, source="site-a", templates=t)
    assert FOOTER not in s.body
    assert any(c.kind == "template" for c in s.cuts)
    assert "Story about the" in s.body
    # another source's documents are not affected by site-a's templates
    s2 = strip(text, source="site-b", templates=t)
    assert FOOTER in s2.body


def test_cross_source_line_is_not_learned():
    t = learn_templates(_docs(), min_stories=3)
    s = strip(story(50) + WIRE + "\n", source="site-a", templates=t)
    assert WIRE in s.body
    assert not any(WIRE.lower().startswith(k[:20]) for k in t.for_source("site-a"))


def test_copies_of_one_story_are_not_templates():
    text = story(1)
    docs = [Document(id=f"c{i}", text=text, source="site-c") for i in range(5)]
    t = learn_templates(docs, min_stories=3)
    assert t.for_source("site-c") == frozenset()


def test_templates_picklable():
    t = learn_templates(_docs(), min_stories=3)
    t2 = pickle.loads(pickle.dumps(t))
    assert t2.lines == t.lines
