"""The HTML report, opened in a real headless Chromium (Debian's /usr/bin/chromium via Playwright)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import dedup
from dedup.report import render_html

from test_variants import variants

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def report(seed_docs, tmp_path_factory) -> tuple[Path, dedup.Result]:
    hostile = dedup.Document("hostile", "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned=2\">\n"
                             + seed_docs[3].text)
    docs = list(seed_docs) + [v for s in seed_docs for v in variants(s)] + [hostile]
    result = dedup.find_clusters(docs, workers=1)
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html(result, "accounting: test"), encoding="utf-8")
    return path, result


@pytest.fixture(scope="module")
def page(report):
    path, _ = report
    errors: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_selector("#clusters tr.cl")  # the data is inflated asynchronously
        page.errors = errors  # type: ignore[attr-defined]
        yield page
        browser.close()


def test_overview_lists_every_cluster(page, report) -> None:
    _, result = report
    assert page.locator("#clusters tr.cl").count() == len(result.clusters)
    assert page.locator("#count").inner_text().startswith(f"{len(result.clusters)} clusters")
    assert page.locator("svg rect").count() > 0  # histogram and sources map are drawn


def test_search_filters_the_list(page) -> None:
    page.fill("#search", "004_46e593943024e3c3~half")  # 004 has no embedded article sharing the id
    assert page.locator("#clusters tr.cl").count() == 1
    page.fill("#search", "")
    assert page.locator("#clusters tr.cl").count() > 1


def test_cluster_page_has_diff_rtl_text_and_chrome(page, report, tmp_path) -> None:
    _, result = report
    target = next(c for c in result.clusters if any(m.doc_id == "004_46e593943024e3c3~edited" for m in c.members))
    page.goto(page.url.split("#")[0] + f"#c={target.id}")
    page.wait_for_selector("#canonical")
    assert page.locator(".member").count() == target.size
    assert page.locator(".member .sbs").count() == target.size - 1  # a side-by-side diff per non-canonical member
    assert page.locator(".member ins").count() > 0 and page.locator(".member del").count() > 0
    respelled = page.locator('.member[data-id="004_46e593943024e3c3~respelled"]')
    assert respelled.locator("ins").count() == 0 and respelled.locator("del").count() == 0  # spelling is no difference
    direction = page.eval_on_selector("#canonical", "e => getComputedStyle(e).direction")
    assert direction == "rtl"
    assert page.locator("details summary").count() > 0  # stripped chrome, collapsed
    page.screenshot(path=str(tmp_path / "cluster.png"), full_page=False)
    assert (tmp_path / "cluster.png").stat().st_size > 10_000


def test_document_text_is_never_markup(page, report) -> None:
    _, result = report
    hostile = next(c for c in result.clusters if any(m.doc_id == "hostile" for m in c.members))
    page.goto(page.url.split("#")[0] + f"#c={hostile.id}")
    page.wait_for_selector("#canonical")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("text=<script>window.__pwned = 1</script>").count() > 0
    assert page.locator(".member img").count() == 0


def test_no_console_errors(page) -> None:
    assert page.errors == []
