"""Tests for per-site template learning."""

from __future__ import annotations

import pickle

import pytest

from dedup.boilerplate import Templates, learn_templates, strip
from dedup.boilerplate.templates import site_key
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


ABOUT = ("I live, I learn and I teach, and this little blog collects the things that made me smile this week, "
         "one picture at a time.")


def _thin_site(n: int = 8) -> list[Document]:
    # thin pages: a one-line post plus the same long "about" blurb on every page
    docs = []
    for k in range(n):
        a, b = TOPICS[k], TOPICS[(k + 3) % len(TOPICS)]
        post = f"Photos of the {a} and the {b} taken by readers of this blog last {k} week."
        docs.append(Document(id=f"t{k}", text=f"{post}\n{ABOUT}\n", source="thin"))
    return docs


def test_blurb_on_every_page_is_no_story_evidence():
    # without the rule, the shared blurb links all pages into one "story" and nothing is learned
    t = learn_templates(_thin_site(), min_stories=3)
    assert t.stories["thin"] == 8
    s = strip("Photos of the bakery taken by readers, the best of the week so far.\n" + ABOUT + "\n",
              source="thin", templates=t)
    assert "I live" not in s.body
    assert any(c.kind == "template" for c in s.cuts)


LEGAL = ("Our newsroom is an independent team of reporters and editors working from three cities, and every "
         "story that we publish is checked by a second editor before it goes online, so please write to the "
         "desk whenever you think that a detail in one of our stories should be corrected or explained.")
BLOG_ABOUT = (
    "My name is Ann and I write this blog about the rivers, lakes and reservoirs of the region, which I have "
    "followed for more than forty years as an engineer, as a member of the water board and now as a "
    "retired walker who still visits every new dam in person. Letters, photographs and corrections from "
    "readers are always welcome, and the best of them are collected in a short weekly post on Sundays, "
    "together with a map of the places that were visited during the week and a list of upcoming walks. "
    "The blog carries no advertising, and the photographs on it may be reused by schools and local "
    "clubs when the name of the photographer is given next to them.")


@pytest.mark.parametrize(("line", "lengths", "marker"), [
    (LEGAL, (240, 600), "second editor"),  # longer than a line key
    (BLOG_ABOUT, (600, 1000), "retired walker"),  # longer than 600 characters
])
def test_long_template_lines_are_learned(line: str, lengths: tuple[int, int], marker: str):
    assert lengths[0] < len(line) <= lengths[1]
    docs = [Document(id=f"l{k}", text=story(k) + line + "\n", source="site") for k in range(6)]
    t = learn_templates(docs, min_stories=3)
    s = strip(story(77) + line + "\n", source="site", templates=t)
    assert marker not in s.body
    assert "Story about the" in s.body


def test_sections_of_one_site_share_its_templates():
    # «news.example.co.uk» and «sport.example.co.uk» are one site: their common footer is a
    # template of it, not a line shared by two outlets
    docs = [Document(id=f"s{k}", text=story(k) + FOOTER + "\n", source=f"{'news' if k % 2 else 'sport'}.example.co.uk")
            for k in range(6)]
    t = learn_templates(docs, min_stories=3)
    s = strip(story(77) + FOOTER + "\n", source="www.example.co.uk", templates=t)
    assert FOOTER not in s.body
    assert "Story about the" in s.body
    s2 = strip(story(77) + FOOTER + "\n", source="other.co.uk", templates=t)
    assert FOOTER in s2.body


def test_site_key():
    assert site_key("www.example.com") == site_key("sport.example.com") == "example.com"
    assert site_key("news.example.co.uk") == "example.co.uk"
    # blogs on a shared host are separate sites; plain source names stay as they are
    assert site_key("ann.blogspot.com") != site_key("bob.blogspot.com")
    assert site_key("almadina") == "almadina"
