// Beside the leads table: the account view (the same leads grouped by a column of the loaded
// file), the tabs between the two views, and the capacity line (the model's SQL cut-off
// against the loaded leads).

"use strict";

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
// With a segment chosen in the filter: that segment's cut-off against that segment's leads.
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
    const segment = Segments.chosen();
    const seg = segment ? Segments.find(segment) : undefined;
    if (seg) rows = rows.filter((r) => Segments.rowValue(r) === segment);
    const bands = seg ? bandsOf({ thresholds: seg }) : bandsOf(info);
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
    line.replaceChildren(el("strong", "", seg ? `Capacity (${segment}): ` : "Capacity: "), el("span", "capacity-text", parts.join("; ")), document.createTextNode(" · "), here);
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
