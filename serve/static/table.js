// The scores table: one row per lead, sorted by a clicked header, filtered by grade, stage,
// each criterion's verdict, unfamiliar leads, the segment (segments.js) and a text search,
// drawn a page (config.pageRows) at a time, and exported as CSV (every row that passes the
// filters, in the table's order, all pages). The account view and the capacity line are in
// accounts.js.
"use strict";

const Table = (() => {
  const pageRows = config.pageRows || 100;
  // Sorting "best first" on the first click: high scores, A before D, strong pushes.
  const FIRST_DIRECTION = { lead_id: 1, segment: 1, score: -1, grade: 1, stage: -1, fit: -1, engagement: -1, reason: 1 };
  const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
  let rows = [];      // {index, lead, raw, score, id, haystack}
  let shown = [];     // rows passing the filters, in table order
  let sort = { key: "score", dir: -1 };
  let page = 0;
  let selected = null;
  let open = () => {};
  let stageRank = new Map();

  const topReason = (s) => (Array.isArray(s.reasons) && s.reasons[0] ? s.reasons[0].text : "");
  const scoreOf = (s) => (typeof s.score === "number" ? s.score : Math.round((s.probability || 0) * 100));
  const criterionOf = (s, name) => (s.criteria ? s.criteria[name] : undefined);

  function push(c) {
    if (!c) return Number.NEGATIVE_INFINITY;
    if (hasPoints(c)) return c.points;
    return typeof c.contribution === "number" ? c.contribution : 0;
  }

  function value(row, key) {
    const s = row.score;
    if (key === "lead_id") return row.id;
    if (key === "segment") return Segments.rowValue(row);
    if (key === "score") return scoreOf(s);
    if (key === "grade") return s.grade || "";
    if (key === "stage") return stageRank.get(s.stage) ?? -1;
    if (key === "reason") return topReason(s);
    if (key === "fit" || key === "engagement") return numberOrNull(s[key]) ?? -1;
    if (key.startsWith("criterion:")) return push(criterionOf(s, key.slice(10)));
    return 0;
  }

  function compare(a, b) {
    const x = value(a, sort.key), y = value(b, sort.key);
    let order = typeof x === "string" ? collator.compare(x, y) : x - y;
    order *= sort.dir;
    if (order === 0 && sort.key !== "score") order = scoreOf(b.score) - scoreOf(a.score);
    return order || a.index - b.index;
  }

  const filterControls = () => document.querySelectorAll("#leads-view .filters select, #filter-unfamiliar");

  function filters() {
    const criteria = [...document.querySelectorAll(".criterion-filter")]
      .filter((s) => s.value).map((s) => [s.dataset.criterion, s.value]);
    return {
      grade: $("filter-grade").value,
      stage: $("filter-stage").value,
      criteria,
      unfamiliar: $("filter-unfamiliar").checked,
      segment: Segments.chosen(),
      words: $("search").value.trim().toLowerCase().split(/\s+/).filter(Boolean),
    };
  }

  function passes(row, f) {
    const s = row.score;
    if (f.grade && s.grade !== f.grade) return false;
    if (f.stage && s.stage !== f.stage) return false;
    if (f.unfamiliar && !isUnfamiliar(s)) return false;
    if (f.segment && Segments.rowValue(row) !== f.segment) return false;
    for (const [name, verdict] of f.criteria) if (verdictOf(criterionOf(s, name)) !== verdict) return false;
    return f.words.every((w) => row.haystack.includes(w));
  }

  function criterionCell(s, name, label) {
    const c = criterionOf(s, name);
    const verdict = verdictOf(c);
    const td = el("td", "verdict " + verdict);
    td.dataset.criterion = name;
    td.dataset.verdict = verdict;
    td.append(el("span", "mark", { met: "✓", "not-met": "✗", unknown: "?" }[verdict]), el("span", "word", VERDICTS[verdict]));
    if (hasPoints(c)) td.append(el("span", "pts", pointsText(c.points)));
    td.title = `${label}: ${VERDICTS[verdict]}`;
    return td;
  }

  function numberCell(s, key) {
    const td = el("td", "num " + key, fitText(s[key]));
    td.dataset.value = numberOrNull(s[key]) ?? "";
    return td;
  }

  function rowNode(row) {
    const s = row.score;
    const tr = el("tr");
    tr.dataset.index = row.index;
    tr.dataset.leadId = s.lead_id ?? "";
    tr.tabIndex = 0;
    if (row === selected) tr.classList.add("selected");
    const score = el("td", "num score");
    const meter = el("span", "meter");
    const fill = el("span", "fill " + (s.grade || ""));
    fill.style.width = Math.max(0, Math.min(100, scoreOf(s))) + "%";
    meter.append(fill);
    score.append(meter, el("span", "score-value", String(scoreOf(s))));
    if (s.trend) {
      const arrow = { improving: "▲", declining: "▼", steady: "▶" }[s.trend] || "";
      const trend = el("span", "trend " + s.trend, arrow);
      trend.title = `${s.trend}${s.previous_score !== null && s.previous_score !== undefined ? ` (was ${s.previous_score})` : ""}`;
      score.append(trend);
    }
    const grade = el("td");
    grade.append(el("span", "grade " + (s.grade || ""), s.grade || "–"));
    const who = el("td", "lead-id", row.id);
    const warnings = texts(s.warnings);
    if (warnings.length) {
      const mark = el("span", "warn-mark", "⚠");
      mark.title = warnings.join("\n");
      who.append(mark);
    }
    if (isUnfamiliar(s)) {
      const mark = el("span", "unfamiliar-mark", "≠");
      mark.title = ["Unfamiliar: unlike the leads the model learned from", ...unfamiliarReasons(s)].join("\n");
      who.append(mark);
    }
    tr.append(who);
    if (Segments.column()) tr.append(Segments.cell(row));
    tr.append(score, grade, el("td", "stage", s.stage || "–"), numberCell(s, "fit"), numberCell(s, "engagement"));
    for (const [name, label] of config.criteria) tr.append(criterionCell(s, name, label));
    tr.append(el("td", "reason", topReason(s) || "–"));
    return tr;
  }

  function draw() {
    const pages = Math.max(1, Math.ceil(shown.length / pageRows));
    page = Math.min(Math.max(0, page), pages - 1);
    const first = page * pageRows;
    const slice = shown.slice(first, first + pageRows);
    $("rows").replaceChildren(...slice.map(rowNode));
    if (!slice.length) {
      const td = el("td", "muted empty", "No lead matches these filters.");
      td.colSpan = 7 + config.criteria.length + (Segments.column() ? 1 : 0);
      const tr = el("tr");
      tr.append(td);
      $("rows").append(tr);
    }
    const counter = $("shown-count");
    counter.textContent = `${count(shown.length)} of ${plural(rows.length, "lead")} shown`;
    counter.dataset.shown = shown.length;
    counter.dataset.total = rows.length;
    $("page-info").textContent = shown.length
      ? `Page ${page + 1} of ${pages} (rows ${count(first + 1)}–${count(first + slice.length)})`
      : "";
    $("prev-page").disabled = page === 0;
    $("next-page").disabled = page >= pages - 1;
    $("export").disabled = shown.length === 0;
    for (const th of document.querySelectorAll("#scores th[data-sort]")) {
      const on = th.dataset.sort === sort.key;
      th.setAttribute("aria-sort", on ? (sort.dir < 0 ? "descending" : "ascending") : "none");
    }
  }

  function apply(keepPage = false) {
    const f = filters();
    shown = rows.filter((r) => passes(r, f)).sort(compare);
    if (!keepPage) page = 0;
    draw();
  }

  function stageOptions() {
    const best = new Map();
    for (const r of rows) {
      const st = r.score.stage;
      if (st) best.set(st, Math.max(best.get(st) ?? -1, scoreOf(r.score)));
    }
    stageRank = best;
    const select = $("filter-stage");
    const keep = select.value;
    const options = [...best.keys()].sort((a, b) => best.get(b) - best.get(a)).map((st) => {
      const o = el("option", "", st);
      o.value = st;
      return o;
    });
    const all = el("option", "", "all");
    all.value = "";
    select.replaceChildren(all, ...options);
    select.value = best.has(keep) ? keep : "";
  }

  // Scored leads: [{lead (as sent), raw (the file's row), score (as answered)}], in the order
  // they were sent.
  function set(scored, onOpen) {
    open = onOpen;
    selected = null;
    rows = scored.map(({ lead, raw, score }, index) => {
      const id = score.lead_id ?? `(row ${index + 1})`;
      const words = [id, ...texts(score.reasons), ...texts(score.concerns)];
      return { index, lead, raw: raw || {}, score, id, haystack: words.join(" \n ").toLowerCase() };
    });
    sort = { key: "score", dir: -1 };
    stageOptions();
    $("results-panel").hidden = false;
    apply();
  }

  function clear() {
    rows = [];
    shown = [];
    selected = null;
    $("rows").replaceChildren();
    $("results-panel").hidden = true;
  }

  // withDecisions: fit, engagement, next steps, the interval's verdict and the unfamiliar flag
  // after the usual columns (the same names as `leadml score --explain`'s).
  function exportRows(withDecisions = false) {
    const names = config.criteria.map(([name]) => name);
    const segment = Segments.column();
    const header = ["lead_id", "score", "grade", "stage"];
    if (segment) header.push(segment, "model"); // as `leadml score` names the routing
    for (const name of names) header.push(name, `${name}_points`);
    header.push("qualified", "reasons", "concerns", "questions", "warnings");
    if (withDecisions) header.push("fit", "engagement", "next_steps", "certainty", "unfamiliar", "unfamiliar_reasons");
    const body = shown.map((row) => {
      const s = row.score;
      const line = [s.lead_id ?? "", scoreOf(s), s.grade, s.stage];
      if (segment) line.push(Segments.rowValue(row), Segments.modelOf(s));
      for (const name of names) {
        const c = criterionOf(s, name);
        line.push(VERDICTS[verdictOf(c)], hasPoints(c) ? Math.round(c.points * 10) / 10 : "");
      }
      const q = qualifiedOf(s);
      line.push(q === true ? "yes" : q === false ? "no" : "cannot judge yet");
      for (const key of ["reasons", "concerns", "questions", "warnings"]) line.push(texts(s[key]).join(" | "));
      if (withDecisions) {
        const flag = s.unfamiliar && typeof s.unfamiliar.unfamiliar === "boolean" ? (s.unfamiliar.unfamiliar ? "yes" : "no") : "";
        line.push(numberOrNull(s.fit) ?? "", numberOrNull(s.engagement) ?? "", stepTexts(s).join(" | "),
          (s.interval && s.interval.verdict) || "", flag, unfamiliarReasons(s).join(" | "));
      }
      return line;
    });
    return csvText(header, body);
  }

  // A download, not a navigation or a script: a Blob behind an object URL, which the page's
  // Content-Security-Policy does not govern. The BOM makes Excel read the file as UTF-8.
  function download() {
    if (!shown.length) return;
    const blob = new Blob(["\ufeff" + exportRows($("export-decisions").checked)], { type: "text/csv;charset=utf-8" });
    const url = URL.createObjectURL(blob);
    const link = el("a");
    link.href = url;
    link.download = `lead-scores-${new Date().toISOString().slice(0, 10)}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30_000);
    setStatus(`Exported ${plural(shown.length, "lead")} (the filtered rows, in table order)`);
  }

  function choose(tr) {
    const row = rows[Number(tr.dataset.index)];
    if (!row) return;
    selected = row;
    for (const other of $("rows").querySelectorAll("tr.selected")) other.classList.remove("selected");
    tr.classList.add("selected");
    open(row);
  }

  function clearFilters() {
    $("search").value = "";
    for (const c of filterControls()) {
      if (c.type === "checkbox") c.checked = false;
      else c.value = "";
    }
    apply();
  }

  function sortable(th) {
    th.querySelector("button").addEventListener("click", () => {
      const key = th.dataset.sort;
      sort = sort.key === key ? { key, dir: -sort.dir } : { key, dir: FIRST_DIRECTION[key] ?? -1 };
      apply();
    });
  }
  for (const th of document.querySelectorAll("#scores th[data-sort]")) sortable(th);

  // The segment column, after the lead's id, only for a model with a segment column (named
  // by segments.js once GET /v1/model answers; null takes it away after a reload).
  function showSegments(name) {
    let th = document.querySelector('#scores th[data-sort="segment"]');
    if (name && !th) {
      th = el("th");
      th.dataset.sort = "segment";
      const button = el("button");
      button.type = "button";
      th.append(button);
      sortable(th);
      document.querySelector('#scores th[data-sort="lead_id"]').after(th);
    } else if (!name && th) {
      th.remove();
      if (sort.key === "segment") sort = { key: "score", dir: -1 };
    }
    if (name) {
      th.querySelector("button").textContent = config.fields[name] ? config.fields[name].display : name;
      th.title = `The lead's ${name}: ◆ where its segment's specialist scored it, not the global model`;
    }
    if (rows.length) apply(true);
  }
  for (const c of filterControls()) c.addEventListener("change", () => apply());
  let typing = null;
  $("search").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(apply, 120); });
  $("clear-filters").addEventListener("click", clearFilters);
  // A new page starts at its first row: back up to the table if it scrolled out of view.
  const turn = (by) => {
    page += by;
    draw();
    if ($("results-panel").getBoundingClientRect().top < 0) $("results-panel").scrollIntoView();
  };
  $("prev-page").addEventListener("click", () => turn(-1));
  $("next-page").addEventListener("click", () => turn(1));
  $("export").addEventListener("click", download);
  $("rows").addEventListener("click", (e) => {
    const tr = e.target.closest("tr[data-index]");
    if (tr) choose(tr);
  });
  $("rows").addEventListener("keydown", (e) => {
    const tr = e.target.closest("tr[data-index]");
    if (tr && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); choose(tr); }
  });

  return { set, clear, shownRows: () => shown, allRows: () => rows, exportRows, showSegments };
})();
