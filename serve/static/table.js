// The scores table: one row per lead, sorted by a clicked header, filtered by grade, stage,
// each criterion's verdict, unfamiliar leads and a text search, drawn a page (config.pageRows)
// at a time, and exported as CSV (every row that passes the filters, in the table's order, all
// pages). Then the account view (the same leads grouped by a column of the loaded file) and the
// capacity line (the model's SQL cut-off against the loaded leads).
"use strict";

const Table = (() => {
  const pageRows = config.pageRows || 100;
  // Sorting "best first" on the first click: high scores, A before D, strong pushes.
  const FIRST_DIRECTION = { lead_id: 1, score: -1, grade: 1, stage: -1, fit: -1, engagement: -1, reason: 1 };
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
      words: $("search").value.trim().toLowerCase().split(/\s+/).filter(Boolean),
    };
  }

  function passes(row, f) {
    const s = row.score;
    if (f.grade && s.grade !== f.grade) return false;
    if (f.stage && s.stage !== f.stage) return false;
    if (f.unfamiliar && !isUnfamiliar(s)) return false;
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
    tr.append(who, score, grade, el("td", "stage", s.stage || "–"), numberCell(s, "fit"), numberCell(s, "engagement"));
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
      td.colSpan = 7 + config.criteria.length;
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
    const header = ["lead_id", "score", "grade", "stage"];
    for (const name of names) header.push(name, `${name}_points`);
    header.push("qualified", "reasons", "concerns", "questions", "warnings");
    if (withDecisions) header.push("fit", "engagement", "next_steps", "certainty", "unfamiliar", "unfamiliar_reasons");
    const body = shown.map(({ score: s }) => {
      const line = [s.lead_id ?? "", scoreOf(s), s.grade, s.stage];
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

  for (const th of document.querySelectorAll("#scores th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      const key = th.dataset.sort;
      sort = sort.key === key ? { key, dir: -sort.dir } : { key, dir: FIRST_DIRECTION[key] ?? -1 };
      apply();
    });
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

  return { set, clear, shownRows: () => shown, allRows: () => rows, exportRows };
})();

// The account view: the scored leads grouped by a column of the loaded file (chosen in a
// select; by default one named like account, company or domain), one row per account: its
// leads, the chance at least one converts (1 − Π(1 − p)), its best lead, and per criterion
// whether someone in it has the criterion met. Blank values are left out and counted.
const Accounts = (() => {
  const pageRows = config.pageRows || 100;
  // Column names that name an account, best first (compared lower-case, _ for any gap).
  const LIKELY = ["account", "account_name", "company", "company_name", "organization",
    "organisation", "account_domain", "company_domain", "domain", "website"];
  const MARKS = { met: "✓", "not-met": "✗", unknown: "?" };
  const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
  let leads = [];       // Table rows: {index, lead, raw, score, id}
  let columns = [];
  let accounts = [];    // one per account, by chance (then leads, then name)
  let page = 0;

  const squash = (name) => name.trim().toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "");

  function likelyColumn(names) {
    const by = new Map(names.map((n) => [squash(n), n]));
    for (const want of LIKELY) if (by.has(want)) return by.get(want);
    return names.find((n) => /account|company/.test(squash(n))) || "";
  }

  function blank(value) {
    if (value === null || value === undefined) return true;
    const text = String(value).trim();
    return text === "" || placeholders.has(text);
  }

  function probabilityOf(s) {
    if (typeof s.probability === "number" && Number.isFinite(s.probability)) return Math.min(1, Math.max(0, s.probability));
    return typeof s.score === "number" ? s.score / 100 : 0;
  }

  // ✓ someone has it met; ✗ everyone's is known and not met; ? no one met, someone unknown.
  function groupVerdict(members, name) {
    const verdicts = members.map((r) => verdictOf(r.score.criteria ? r.score.criteria[name] : undefined));
    if (verdicts.includes("met")) return "met";
    return verdicts.includes("unknown") ? "unknown" : "not-met";
  }

  function group(column) {
    const byKey = new Map();
    let blanks = 0;
    for (const row of leads) {
      const value = row.raw ? row.raw[column] : undefined;
      if (blank(value)) { blanks++; continue; }
      const name = String(value).trim().replace(/\s+/g, " ");
      const key = name.toLowerCase();
      if (!byKey.has(key)) byKey.set(key, { name, members: [] });
      byKey.get(key).members.push(row);
    }
    const out = [...byKey.values()].map(({ name, members }) => {
      let none = 1;
      for (const r of members) none *= 1 - probabilityOf(r.score);
      const best = members.reduce((a, b) => (probabilityOf(b.score) > probabilityOf(a.score) ? b : a));
      const verdicts = Object.fromEntries(config.criteria.map(([c]) => [c, groupVerdict(members, c)]));
      return { name, members, chance: 1 - none, best, verdicts };
    });
    out.sort((a, b) => b.chance - a.chance || b.members.length - a.members.length || collator.compare(a.name, b.name));
    return { out, blanks };
  }

  function criterionCell(account, name, label) {
    const verdict = account.verdicts[name];
    const td = el("td", "verdict " + verdict, MARKS[verdict]);
    td.dataset.criterion = name;
    td.dataset.verdict = verdict;
    const met = account.members.filter((r) => verdictOf(r.score.criteria ? r.score.criteria[name] : undefined) === "met");
    td.title = met.length
      ? `${label}: met for ${met.length} of ${plural(account.members.length, "lead")} (${met.map((r) => r.id).join(", ")})`
      : `${label}: ${verdict === "unknown" ? "no one has it met; unknown for some: ask" : "not met for anyone"}`;
    return td;
  }

  function rowNode(account) {
    const tr = el("tr");
    tr.dataset.account = account.name;
    tr.dataset.chance = String(account.chance);
    tr.dataset.leads = String(account.members.length);
    const chance = el("td", "num chance");
    const meter = el("span", "meter");
    const fill = el("span", "fill");
    fill.style.width = Math.round(account.chance * 100) + "%";
    meter.append(fill);
    chance.append(meter, el("span", "chance-value", chanceText(account.chance)));
    const best = el("td", "best");
    const open = el("button", "link best-lead", `${account.best.id} · ${account.best.score.score ?? "–"} ${account.best.score.grade || ""}`.trim());
    open.type = "button";
    open.dataset.leadId = account.best.score.lead_id ?? "";
    open.title = "Open this lead's details";
    open.addEventListener("click", () => Detail.open(account.best));
    best.append(open);
    tr.append(el("td", "account-name", account.name), el("td", "num count", count(account.members.length)), chance, best);
    for (const [name, label] of config.criteria) tr.append(criterionCell(account, name, label));
    return tr;
  }

  function draw() {
    const pages = Math.max(1, Math.ceil(accounts.length / pageRows));
    page = Math.min(Math.max(0, page), pages - 1);
    const first = page * pageRows;
    const slice = accounts.slice(first, first + pageRows);
    $("account-rows").replaceChildren(...slice.map(rowNode));
    if (!slice.length) {
      const td = el("td", "muted empty", $("account-column").value
        ? "No lead has a value in this column."
        : "Pick the column of the loaded file that names each lead's account.");
      td.colSpan = 4 + config.criteria.length;
      const tr = el("tr");
      tr.append(td);
      $("account-rows").append(tr);
    }
    $("accounts-page-info").textContent = accounts.length > pageRows
      ? `Page ${page + 1} of ${pages} (accounts ${count(first + 1)}–${count(first + slice.length)})`
      : "";
    $("accounts-prev").disabled = page === 0;
    $("accounts-next").disabled = page >= pages - 1;
  }

  function regroup() {
    const column = $("account-column").value;
    const counter = $("accounts-count");
    if (!column) {
      accounts = [];
      counter.textContent = "";
      delete counter.dataset.blank;
    } else {
      const { out, blanks } = group(column);
      accounts = out;
      const grouped = leads.length - blanks;
      counter.textContent = `${plural(out.length, "account")} from ${plural(grouped, "lead")}` +
        (blanks ? `; ${plural(blanks, "lead")} with a blank ${column} left out` : "");
      counter.dataset.accounts = out.length;
      counter.dataset.blank = blanks;
    }
    page = 0;
    draw();
  }

  // rows: the table's rows; names: the loaded file's columns, in the file's order.
  function set(rows, names) {
    leads = rows;
    const keep = $("account-column").value;
    columns = names || [];
    const none = el("option", "", "— choose a column —");
    none.value = "";
    const options = columns.map((n) => { const o = el("option", "", n); o.value = n; return o; });
    $("account-column").replaceChildren(none, ...options);
    $("account-column").value = columns.includes(keep) ? keep : likelyColumn(columns);
    regroup();
  }

  $("account-column").addEventListener("change", regroup);
  $("accounts-prev").addEventListener("click", () => { page--; draw(); });
  $("accounts-next").addEventListener("click", () => { page++; draw(); });

  return { set, accounts: () => accounts, likelyColumn };
})();

// The results' two views, leads and accounts, as tabs.
const Views = (() => {
  function show(which) {
    for (const [name, view] of [["leads", "leads-view"], ["accounts", "accounts-view"]]) {
      const on = name === which;
      $(view).hidden = !on;
      $(`view-${name}`).setAttribute("aria-selected", String(on));
      $(`view-${name}`).classList.toggle("on", on);
    }
  }
  $("view-leads").addEventListener("click", () => show("leads"));
  $("view-accounts").addEventListener("click", () => show("accounts"));
  show("leads");
  return { show };
})();

// The capacity cut-off (GET /v1/model's thresholds, when `leadml thresholds --apply` set one):
// what sales can work, the inflow it was read from, the score SQL starts at, and how many of
// the loaded leads are at or above it (by probability, exactly as the server gives "SQL").
const Capacity = (() => {
  const PER = { day: "a day", week: "a week", month: "a month" };
  const amount = (n) => (typeof n === "number" && Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: n < 10 ? 1 : 0 }) : null);

  function bandsOf(info) {
    for (const key of ["thresholds", "bands"]) {
      const b = info && info[key];
      if (b && typeof b.sql_cutoff === "number" && Number.isFinite(b.sql_cutoff)) return b;
    }
    return null;
  }

  function show(info, rows) {
    const line = $("capacity-line");
    const bands = bandsOf(info);
    if (!bands) { line.hidden = true; line.replaceChildren(); return; }
    const cut = bands.sql_cutoff;
    const cap = bands.capacity || {};
    const per = PER[cap.per] || (cap.per ? `a ${cap.per}` : "");
    const parts = [];
    if (amount(cap.capacity) !== null) parts.push(`${amount(cap.capacity)} leads ${per}`.trim());
    if (amount(cap.inflow_per_period) !== null) parts.push(`inflow ${amount(cap.inflow_per_period)} ${per}`.trim());
    parts.push(`SQL from score ${Math.round(cut * 100)}`);
    const above = rows.filter((r) => typeof r.score.probability === "number" && r.score.probability >= cut).length;
    const here = el("span", "capacity-here", `${count(above)} of ${plural(rows.length, "lead")} here at or above it`);
    here.dataset.above = above;
    here.dataset.total = rows.length;
    line.replaceChildren(el("strong", "", "Capacity: "), el("span", "capacity-text", parts.join("; ")), document.createTextNode(" · "), here);
    line.dataset.cutoff = String(cut);
    line.hidden = false;
  }

  // Asked afresh after each scoring: a reloaded model may carry another cut-off.
  let asked = 0;
  function update(rows) {
    const ticket = ++asked;
    modelInfo(true).then((info) => { if (ticket === asked) show(info, rows); })
      .catch(() => { if (ticket === asked) show(null, rows); });
  }

  return { update, show };
})();
