"""A self-contained HTML cluster report: one file, inline CSS/JS/SVG, no network.

The page carries the run as one JSON block and renders it in the browser: an
overview (counts, a cluster-size histogram, a sources x clusters map), a list of
clusters with search, filters and paging, and a page per cluster with the
canonical text, why it was chosen, every member with its evidence, a word-level
diff against the canonical, and the chrome stripped from each member. Document
text only ever reaches the page through ``textContent``, never as markup.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections import Counter
from typing import Any

from ..pipeline import Result
from .records import rows

_PREVIEW = 300  # characters of a singleton's text carried in the page
_TEXT_CAP = 8000  # characters of a duplicate-cluster member's body carried in the page
_CUT_CAP = 400  # characters of each stripped span carried in the page


def _page_row(result: Result, row: dict[str, Any], full: bool) -> dict[str, Any]:
    """A report row (:func:`records.rows`) with what only the page shows: date, body, cuts."""
    doc_id = row["doc_id"]
    body = result.stripped[doc_id].body
    cap = _TEXT_CAP if full else _PREVIEW
    cuts = result.stripped[doc_id].cuts if full else ()
    return {**row, "date": result.documents[doc_id].date, "text": body[:cap], "clipped": len(body) > cap,
            "cuts": [[c.kind, c.reason, c.text[:_CUT_CAP]] for c in cuts]}


def payload(result: Result, accounting: str) -> dict[str, Any]:
    """Everything the page shows, as plain data."""
    clusters: dict[int, dict[str, Any]] = {}
    for row in rows(result):
        c = clusters.setdefault(row["cluster_id"], {"id": row["cluster_id"], "size": row["cluster_size"],
                                                     "canonical": row["canonical_id"], "reason": row["reason"],
                                                     "members": []})
        c["members"].append(_page_row(result, row, row["cluster_size"] > 1))
    sources = Counter(d.source or "(none)" for d in result.documents.values())
    sizes = Counter(c.size for c in result.clusters)
    return {
        "summary": {
            "documents": len(result.documents),
            "embedded": result.stats.get("embedded", 0),
            "clusters": len(result.clusters),
            "duplicates": result.duplicates,
            "chrome": result.chrome_removed,
            "accounting": accounting,
        },
        "sources": sources.most_common(20),
        "sizes": sorted(sizes.items()),
        "clusters": list(clusters.values()),
    }


def render_html(result: Result, accounting: str) -> str:
    """The report page for ``result``.

    The data travels gzip-compressed and base64-encoded (about a third of the JSON's
    size, and no character of it can close its ``<script>`` element); the browser
    inflates it with ``DecompressionStream``.
    """
    data = json.dumps(payload(result, accounting), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _PAGE.replace("__DATA__", base64.b64encode(gzip.compress(data, compresslevel=6)).decode("ascii"))


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dedup cluster report</title>
<style>
:root{--fg:#1d2430;--mute:#5b6576;--line:#d9dee7;--acc:#2457c5;--bg:#f6f7f9;--ins:#d7f5dd;--del:#fbdada}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,"Noto Sans","Noto Naskh Arabic",sans-serif;color:var(--fg);background:var(--bg)}
header{background:#fff;border-bottom:1px solid var(--line);padding:12px 24px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:18px;margin:0}header a{color:var(--acc);text-decoration:none}
main{padding:16px 24px;max-width:1400px;margin:auto}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:150px}
.card b{display:block;font-size:22px}.card span{color:var(--mute);font-size:13px}
.row{display:flex;flex-wrap:wrap;gap:16px;margin-top:16px}.panel{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px;flex:1;min-width:320px}
.panel h2{font-size:15px;margin:0 0 8px}
.filters{display:flex;flex-wrap:wrap;gap:8px;margin:16px 0 8px}.filters input,.filters select{padding:6px 8px;border:1px solid var(--line);border-radius:6px;font:inherit}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:start;vertical-align:top}
th{font-size:13px;color:var(--mute)}tr.cl{cursor:pointer}tr.cl:hover{background:#eef3ff}
.pager{display:flex;gap:8px;align-items:center;margin:8px 0}.pager button{padding:4px 10px}
.text{white-space:pre-wrap;background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px;unicode-bidi:plaintext}
.member{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px;margin:12px 0}
.meta{color:var(--mute);font-size:13px}.why{background:#eef3ff;border-radius:6px;padding:6px 10px;margin:8px 0}
ins{background:var(--ins);text-decoration:none}del{background:var(--del)}
details{margin-top:8px}summary{cursor:pointer;color:var(--mute)}.cut{font-size:13px;border-top:1px dashed var(--line);padding:4px 0}
.tag{display:inline-block;background:#eef0f4;border-radius:4px;padding:0 6px;margin:0 4px 0 0;font-size:12px}
svg text{font-size:11px;fill:var(--mute)}
.sbs{display:grid;grid-template-columns:1fr 1fr;gap:12px;margin-top:8px}.side{font-size:14px;max-height:420px;overflow:auto}
</style></head>
<body>
<header><h1>dedup cluster report</h1><a href="#">Overview and clusters</a><span class="meta" id="acct"></span></header>
<main id="main"><p class="meta">Loading…</p></main>
<script type="application/gzip;base64" id="data">__DATA__</script>
<script>
"use strict";
let D;
const byId = new Map(); const clusterOf = new Map();
async function load() {
  const packed = await fetch("data:application/gzip;base64," + document.getElementById("data").textContent);
  const text = await new Response(packed.body.pipeThrough(new DecompressionStream("gzip"))).text();
  return JSON.parse(text);
}
const PAGE = 50;
const state = {q: "", source: "", minSize: 1, page: 0};
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") e.textContent = v; else if (k === "on") e.addEventListener("click", v); else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}
function svg(tag, attrs) { const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); return e; }
function fmt(x) { return x == null ? "–" : (typeof x === "number" ? (Number.isInteger(x) ? x.toLocaleString() : x.toFixed(2)) : x); }
function canonicalOf(c) { return c.members.find(m => m.is_canonical) || c.members[0]; }
function preview(c) { return canonicalOf(c).text.split("\\n").find(l => l.trim()) || ""; }

function histogram() {
  const W = 420, H = 160, pad = 24, data = D.sizes, max = Math.max(1, ...data.map(d => Math.log10(d[1] + 1)));
  const s = svg("svg", {width: W, height: H, role: "img", "aria-label": "cluster sizes"});
  const bw = Math.max(2, (W - pad) / Math.max(1, data.length) - 2);
  data.forEach(([size, n], i) => {
    const h = (H - pad) * Math.log10(n + 1) / max, x = pad + i * (bw + 2);
    const r = svg("rect", {x, y: H - pad - h, width: bw, height: h, fill: "#2457c5"});
    const t = svg("title", {}); t.textContent = size + " members: " + n + " clusters"; r.append(t); s.append(r);
    if (data.length < 20 || i % Math.ceil(data.length / 10) === 0) { const l = svg("text", {x, y: H - 8}); l.textContent = size; s.append(l); }
  });
  return s;
}
function sourceMap() {
  const top = D.clusters.filter(c => c.size > 1).slice(0, 25), srcs = D.sources.slice(0, 12).map(s => s[0]);
  const cw = 14, ch = 16, left = 110, s = svg("svg", {width: left + top.length * cw + 10, height: srcs.length * ch + 10, role: "img", "aria-label": "sources by cluster"});
  srcs.forEach((src, r) => {
    const l = svg("text", {x: 0, y: r * ch + 12}); l.textContent = src.slice(0, 16); s.append(l);
    top.forEach((c, k) => {
      const n = c.members.filter(m => (m.source || "(none)") === src).length;
      const cell = svg("rect", {x: left + k * cw, y: r * ch, width: cw - 2, height: ch - 2, fill: n ? "rgba(36,87,197," + Math.min(1, 0.25 + n / 4) + ")" : "#eef0f4"});
      const t = svg("title", {}); t.textContent = src + " in cluster " + c.id + ": " + n; cell.append(t); s.append(cell);
    });
  });
  return s;
}
function filtered() {
  const q = state.q.toLowerCase();
  return D.clusters.filter(c => c.size >= state.minSize
    && (!state.source || c.members.some(m => (m.source || "(none)") === state.source))
    && (!q || String(c.id) === q || c.members.some(m => m.doc_id.toLowerCase().includes(q) || m.text.toLowerCase().includes(q))));
}
function overview() {
  const S = D.summary, main = document.getElementById("main"); main.replaceChildren();
  main.append(el("div", {class: "cards"},
    ...[["documents", S.documents], ["embedded articles", S.embedded], ["clusters", S.clusters],
        ["in duplicate clusters", S.duplicates], ["chrome characters removed", S.chrome]]
      .map(([k, v]) => el("div", {class: "card"}, el("b", {text: fmt(v)}), el("span", {text: k})))));
  const srcList = el("table", {}, el("tr", {}, el("th", {text: "source"}), el("th", {text: "documents"})),
    ...D.sources.slice(0, 10).map(([s, n]) => el("tr", {}, el("td", {text: s}), el("td", {text: fmt(n)}))));
  main.append(el("div", {class: "row"},
    el("div", {class: "panel"}, el("h2", {text: "Cluster sizes (log scale)"}), histogram()),
    el("div", {class: "panel"}, el("h2", {text: "Sources × largest clusters"}), sourceMap()),
    el("div", {class: "panel"}, el("h2", {text: "Top sources"}), srcList)));
  const search = el("input", {id: "search", type: "search", placeholder: "search text or id", value: state.q});
  const source = el("select", {id: "source"}, el("option", {value: "", text: "all sources"}),
    ...D.sources.map(([s]) => el("option", {value: s, text: s})));
  source.value = state.source;
  const size = el("input", {id: "minsize", type: "number", min: "1", value: String(state.minSize), title: "minimum size"});
  const list = el("div", {id: "list"});
  const update = () => { state.q = search.value.trim(); state.source = source.value; state.minSize = +size.value || 1; state.page = 0; renderList(list); };
  search.addEventListener("input", update); source.addEventListener("change", update); size.addEventListener("input", update);
  main.append(el("div", {class: "filters"}, search, source, el("label", {text: "min size "}, size)), list);
  renderList(list);
}
function renderList(list) {
  const rows = filtered(), pages = Math.max(1, Math.ceil(rows.length / PAGE));
  state.page = Math.min(state.page, pages - 1);
  const shown = rows.slice(state.page * PAGE, (state.page + 1) * PAGE);
  const table = el("table", {id: "clusters"}, el("tr", {}, ...["cluster", "size", "canonical", "first line", "sources"].map(h => el("th", {text: h}))),
    ...shown.map(c => el("tr", {class: "cl", "data-id": c.id, on: () => { location.hash = "c=" + c.id; }},
      el("td", {text: c.id}), el("td", {text: c.size}), el("td", {text: c.canonical}),
      el("td", {dir: "auto", text: preview(c).slice(0, 140)}),
      el("td", {text: [...new Set(c.members.map(m => m.source || "(none)"))].slice(0, 4).join(", ")}))));
  const prev = el("button", {text: "‹ previous", on: () => { state.page--; renderList(list); }});
  const next = el("button", {text: "next ›", on: () => { state.page++; renderList(list); }});
  prev.disabled = state.page === 0; next.disabled = state.page >= pages - 1;
  list.replaceChildren(el("div", {class: "pager"}, prev, el("span", {id: "count", text: rows.length.toLocaleString() + " clusters · page " + (state.page + 1) + " of " + pages}), next), table);
}
const FOLD = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ی": "ي", "ئ": "ي", "ة": "ه", "ؤ": "و", "ک": "ك"};
function fold(w) {
  // the comparison key of a word, as for hashing: marks, tatweel and punctuation off, letters folded
  return w.normalize("NFKD").replace(/[\u0300-\u036f\u064b-\u065f\u0670\u0640\u200b-\u200f]/g, "")
    .replace(/[^\\p{L}\\p{N}]/gu, "").replace(/./gu, c => FOLD[c] || c).toLowerCase();
}
function diff(a, b) {
  // side by side, word level: the canonical (a) with its words missing from the member struck,
  // the member (b) with its words missing from the canonical marked, aligned by the LCS of the
  // folded words (so re-spellings are not differences); the original words are shown
  const n = a.length, m = b.length, dp = new Array(n + 1), fa = a.map(fold), fb = b.map(fold);
  for (let i = 0; i <= n; i++) dp[i] = new Int32Array(m + 1);
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--)
    dp[i][j] = fa[i] === fb[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const left = el("div", {class: "text side", dir: "auto"}), right = el("div", {class: "text side", dir: "auto"});
  const put = (box, tag, w) => box.append(tag ? el(tag, {text: w}) : document.createTextNode(w), " ");
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (fa[i] === fb[j]) { put(left, null, a[i++]); put(right, null, b[j++]); }
    else if (dp[i + 1][j] >= dp[i][j + 1]) put(left, "del", a[i++]); else put(right, "ins", b[j++]);
  }
  while (i < n) put(left, "del", a[i++]); while (j < m) put(right, "ins", b[j++]);
  return el("div", {class: "sbs"}, el("div", {}, el("div", {class: "meta", text: "canonical"}), left),
    el("div", {}, el("div", {class: "meta", text: "this member"}), right));
}
const words = t => t.split(/\\s+/).filter(Boolean).slice(0, 2500);
function clusterPage(id) {
  const c = byId.get(id), main = document.getElementById("main"); main.replaceChildren();
  if (!c) { main.append(el("p", {text: "No cluster " + id})); return; }
  const canon = canonicalOf(c);
  main.append(el("h2", {text: "Cluster " + c.id + " · " + c.size + " member" + (c.size > 1 ? "s" : "")}),
    el("div", {class: "why", text: "Canonical " + c.canonical + ": " + c.reason}),
    el("div", {class: "text", id: "canonical", dir: "auto", text: canon.text + (canon.clipped ? " …" : "")}));
  for (const m of c.members) {
    const box = el("div", {class: "member", "data-id": m.doc_id});
    box.append(el("div", {}, el("b", {text: m.doc_id}), " ", el("span", {class: "meta",
      text: [m.source, m.date, "similarity " + fmt(m.similarity), "Jaccard " + fmt(m.jaccard), "containment " + fmt(m.containment), "specific " + fmt(m.specific)].filter(Boolean).join(" · ")})));
    if (m.parent_id) box.append(el("div", {class: "meta"}, "embedded in ", el("a", {href: "#c=" + clusterOf.get(m.parent_id), text: m.parent_id})));
    if (m.differs.length) box.append(el("div", {class: "meta"}, "differs: ", ...m.differs.map(w => el("span", {class: "tag", text: w}))));
    if (!m.is_canonical) box.append(diff(words(canon.text), words(m.text)));
    if (m.cuts.length) box.append(el("details", {}, el("summary", {text: m.cuts.length + " stripped spans (" + fmt(m.stripped_chars) + " characters)"}),
      ...m.cuts.map(([kind, reason, text]) => el("div", {class: "cut"}, el("span", {class: "tag", text: kind}), el("span", {class: "meta", text: reason + ": "}), el("span", {dir: "auto", text})))));
    const kids = D.clusters.filter(k => k.members.some(x => x.parent_id === m.doc_id));
    kids.forEach(k => box.append(el("div", {class: "meta"}, "embedded article: ", el("a", {href: "#c=" + k.id, text: "cluster " + k.id}))));
    main.append(box);
  }
}
function route() {
  const m = location.hash.match(/^#c=(\\d+)/);
  if (m) clusterPage(+m[1]); else overview();
}
load().then(data => {
  D = data;
  D.clusters.forEach(c => { byId.set(c.id, c); c.members.forEach(m => clusterOf.set(m.doc_id, c.id)); });
  document.getElementById("acct").textContent = D.summary.accounting;
  window.addEventListener("hashchange", route);
  route();
  window.dedupReady = performance.now();  // ms since navigation start, for load-time checks
});
</script>
</body></html>
"""
