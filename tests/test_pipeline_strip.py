"""Stripping inside the pipeline: chrome never links stories, embedded articles become documents."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from dedup import Document, find_clusters
from dedup.boilerplate import reconstruct
from dedup.cli import main
from dedup.pipeline import passthrough

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

HEADER = [
    "الرئيسية",
    "  • أخبار محلية",
    "  • اقتصاد",
    "  • رياضة",
    "  • منوعات",
    "  • اتصل بنا",
]
FOOTER = [
    "الأكثر قراءة",
    "  • أمطار غزيرة متوقعة على المناطق الشمالية خلال عطلة نهاية الأسبوع الحالي",
    "  • ارتفاع أسعار الذهب في الأسواق المحلية مع تراجع الدولار الأمريكي",
    "  • افتتاح معرض الكتاب الدولي بمشاركة أكثر من خمسمائة دار نشر عربية",
    "  • المنتخب الوطني يستعد لمواجهة حاسمة في تصفيات كأس العالم المقبلة",
    "  • وزارة الصحة تطلق حملة تطعيم جديدة في جميع المدارس الحكومية",
    "  • انخفاض درجات الحرارة بشكل ملحوظ في العاصمة والمدن المجاورة لها",
    "شارك هذا الخبر على فيسبوك وتويتر وواتساب",
    "جميع الحقوق محفوظة لموقع البوابة الإخبارية العربية ولا يجوز النقل دون إذن مسبق من إدارة الموقع 2025",
    "سياسة الخصوصية | شروط الاستخدام | أعلن معنا | من نحن | فريق العمل | خريطة الموقع | الأرشيف",
    "تابعونا على تطبيق الهاتف المحمول للحصول على آخر الأخبار العاجلة والتقارير الحصرية",
]


def _stories() -> list[str]:
    text = (SEEDS / "004_46e593943024e3c3.txt").read_text(encoding="utf-8")
    paras = [p for p in text.split("\n") if len(p.split()) >= 25]
    return paras[:6]


def _page(story: str) -> str:
    return "\n".join(HEADER + ["", story, ""] + FOOTER)


def test_shared_site_chrome_forms_no_cluster() -> None:
    stories = _stories()
    assert len(stories) >= 5
    docs = [Document(f"p{i}", _page(s), source="portal.example") for i, s in enumerate(stories)]
    whole = find_clusters(docs, strip=passthrough)
    assert any(c.size > 1 for c in whole.clusters), "the fixture must be chrome-heavy enough to fool raw hashing"
    stripped = find_clusters(docs)
    assert all(c.size == 1 for c in stripped.clusters)
    for d in docs:
        assert "جميع الحقوق محفوظة" not in stripped.stripped[d.id].body


def test_embedded_articles_are_documents_with_their_parent(seed_docs) -> None:
    result = find_clusters(seed_docs)
    children = {d.id: d.meta["parent_id"] for d in result.documents.values() if "parent_id" in d.meta}
    assert children == {f"{p.id}#embedded-1": p.id for p in seed_docs[:3]}
    members = {m.doc_id: m.parent_id for c in result.clusters for m in c.members}
    assert {k: v for k, v in members.items() if v} == children


def test_strip_command_jsonl_reconstructs_input() -> None:
    result = CliRunner().invoke(main, ["strip", str(SEEDS), "--format", "jsonl"], catch_exceptions=False)
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [r["id"] for r in records] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    for r in records:
        original = (SEEDS / f"{r['id']}.txt").read_text(encoding="utf-8")
        from dedup.model import Cut

        assert reconstruct(r["body"], [Cut(**c) for c in r["cuts"]]) == original
    assert [len(r["children"]) for r in records] == [1, 1, 1, 0, 0]
    assert records[0]["meta"]["source_chain"] == ["تاس", "صحيفة المرصد الليبية"]


def test_strip_explain_labels_every_line() -> None:
    path = SEEDS / "001_d5e7333eea537f51.txt"
    result = CliRunner().invoke(main, ["strip", str(path), "--explain"], catch_exceptions=False)
    out = result.stdout
    assert "cut source" in out and "cut tags" in out and "cut embedded" in out
    assert "trim widget_header" in out  # «أخبار ذات صلة» glued to the lead: only the prefix goes
    assert out.count("keep ") >= 2
