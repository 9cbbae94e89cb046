// The sales-ops page: read leads from a CSV or pasted text, call the same /v1 API a CRM
// calls, and draw probability, grade, one bar per criterion and the reasons.
// Values from the server are only ever set with textContent (never innerHTML).
"use strict";

const config = JSON.parse(document.getElementById("page-config").textContent);
const $ = (id) => document.getElementById(id);
const accepted = new Set([...(config.idField ? [config.idField] : []), ...Object.keys(config.fields)]);
const placeholders = new Set(config.missingValues.map((v) => v.trim()));

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

// RFC 4180 CSV: quoted fields, doubled quotes, commas and newlines inside quotes.
function parseCSV(text) {
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field); rows.push(row); row = []; field = "";
    } else field += c;
  }
  if (field !== "" || row.length) { row.push(field); rows.push(row); }
  return rows.filter((r) => r.some((v) => v.trim() !== ""));
}

// Keep only the fields the model reads (and the id); blanks and "Select"-style placeholders
// are left out so they are scored as missing. PII and other columns never leave the page.
function cleanLead(raw, ignored) {
  const lead = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = key.trim();
    if (!accepted.has(name)) { ignored.add(name); continue; }
    if (value === null || value === undefined) continue;
    const text = typeof value === "string" ? value.trim() : value;
    if (text === "" || (typeof text === "string" && placeholders.has(text))) continue;
    const spec = config.fields[name];
    if (spec && spec.kind === "boolean" && typeof text === "string") {
      const word = text.toLowerCase();
      if (["1", "1.0", "true", "yes", "y"].includes(word)) { lead[name] = true; continue; }
      if (["0", "0.0", "false", "no", "n"].includes(word)) { lead[name] = false; continue; }
    }
    lead[name] = text;
  }
  return lead;
}

function readLeads(text) {
  const ignored = new Set();
  const trimmed = text.trim();
  if (!trimmed) throw new Error("nothing to score: upload a CSV or paste leads");
  let raws;
  if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
    let data;
    try { data = JSON.parse(trimmed); } catch (e) { throw new Error("the pasted JSON is not valid: " + e.message); }
    raws = Array.isArray(data) ? data : Array.isArray(data.leads) ? data.leads : [data];
  } else {
    const rows = parseCSV(trimmed);
    if (rows.length < 2) throw new Error("the CSV needs a header row and at least one lead");
    const header = rows[0].map((h) => h.trim());
    raws = rows.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""])));
  }
  return { leads: raws.map((r) => cleanLead(r, ignored)), ignored: [...ignored] };
}

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) h.Authorization = "Bearer " + key;
  return h;
}

async function call(method, path, body) {
  const response = await fetch(path, {
    method, headers: headers(), body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.detail || `${response.status} ${response.statusText}`);
  return data;
}

async function scoreText(text) {
  const { leads, ignored } = readLeads(text);
  const scores = [];
  for (let start = 0; start < leads.length; start += config.maxLeads) {
    setStatus(`Scoring ${Math.min(start + config.maxLeads, leads.length)} of ${leads.length}…`);
    const data = await call("POST", "/v1/score", { leads: leads.slice(start, start + config.maxLeads) });
    scores.push(...data.scores);
  }
  render(scores);
  const note = ignored.length ? ` (ignored columns: ${ignored.join(", ")})` : "";
  setStatus(`Scored ${scores.length} lead${scores.length === 1 ? "" : "s"}${note}`);
  if (config.history) loadRecent();
}

function criterionRows(criteria, scale) {
  const grid = el("div", "criteria");
  for (const [name, label] of config.criteria) {
    const c = criteria[name];
    if (!c) continue;
    const track = el("div", "track");
    const bar = el("div", "bar " + (c.met === null ? "unknown" : c.met ? "met" : "not-met"));
    const width = Math.max(2, (Math.abs(c.contribution) / scale) * 50);
    bar.style.width = width + "%";
    bar.style.left = c.contribution >= 0 ? "50%" : 50 - width + "%";
    track.title = `${label}: ${c.met === null ? "no data" : c.met ? "met" : "not met"}`;
    track.dataset.criterion = name;
    track.append(bar);
    grid.append(el("span", "", label), track, el("span", "push", c.contribution.toFixed(2)));
  }
  return grid;
}

function card(s, scale) {
  const node = el("article", "card");
  node.dataset.leadId = s.lead_id ?? "";
  const head = el("div", "card-head");
  head.append(el("div", "grade " + s.grade, s.grade));
  const who = el("div");
  who.append(el("div", "lead-id", s.lead_id ?? "(no id)"));
  const sub = el("div", "sub", `${s.tier} · ${s.stage} · score ${s.score}`);
  if (s.trend) {
    const arrow = { improving: " ▲ ", declining: " ▼ ", steady: " ▶ " }[s.trend];
    sub.append(el("span", "trend " + s.trend, `${arrow}${s.trend} (was ${s.previous_score})`));
  }
  who.append(sub);
  head.append(who, el("div", "prob", (s.probability * 100).toFixed(1) + "%"));
  node.append(head);
  if (s.criteria) {
    node.append(criterionRows(s.criteria, scale));
    const qualified = el("span", "qualified " + (s.bant_qualified ? "yes" : "no"),
      s.bant_qualified ? "BANT qualified" : "not BANT qualified");
    node.append(qualified);
    const list = el("ul", "reasons");
    for (const r of s.reasons || []) list.append(el("li", "plus", r.text));
    for (const r of s.concerns || []) list.append(el("li", "minus", r.text));
    node.append(list);
  }
  return node;
}

function render(scores) {
  const sorted = [...scores].sort((a, b) => b.probability - a.probability);
  let scale = 0.5;  // log-odds; the widest bar on screen sets the scale
  for (const s of sorted) for (const c of Object.values(s.criteria || {})) scale = Math.max(scale, Math.abs(c.contribution));
  const box = $("results");
  box.replaceChildren(...sorted.map((s) => card(s, scale)));
  $("results-count").textContent = `(${sorted.length}, highest first)`;
  $("results-panel").hidden = false;
}

async function loadRecent() {
  const list = $("recent");
  try {
    const data = await call("GET", "/v1/history?limit=30");
    list.replaceChildren();
    if (!data.leads.length) list.append(el("li", "muted", "No leads scored yet."));
    for (const row of data.leads) {
      const item = el("li");
      const button = el("button", "", `${row.lead_id} · ${row.grade} · ${Math.round(row.probability * 100)}%`);
      button.type = "button";
      button.dataset.leadId = row.lead_id;
      button.addEventListener("click", () => explainRecent(row));
      item.append(button);
      list.append(item);
    }
  } catch (e) {
    list.replaceChildren(el("li", "muted", "History unavailable: " + e.message));
  }
}

async function explainRecent(row) {
  try {
    setStatus(`Explaining ${row.lead_id}…`);
    const lead = { ...(row.features || {}) };
    if (config.idField) lead[config.idField] = row.lead_id;
    const e = await call("POST", "/v1/explain", lead);
    render([{ ...e, trend: null }]);
    setStatus(`Lead ${row.lead_id}, as scored on ${new Date(row.scored_at).toLocaleString()}, explained by ${e.model_version}`);
  } catch (err) {
    setStatus(err.message, true);
  }
}

$("api-key").value = sessionStorage.getItem("leadml-key") || "";
$("api-key").addEventListener("change", () => sessionStorage.setItem("leadml-key", $("api-key").value));

// An uploaded file is kept in memory, not shown: exports carry names and emails.
let upload = null;
$("csv-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  upload = { name: file.name, text: await file.text() };
  $("paste").value = "";
  setStatus(`Loaded ${file.name}; press Score leads`);
});
$("paste").addEventListener("input", () => { upload = null; $("csv-file").value = ""; });

$("score-button").addEventListener("click", async () => {
  $("score-button").disabled = true;
  try { await scoreText(upload ? upload.text : $("paste").value); }
  catch (e) { setStatus(e.message, true); }
  finally { $("score-button").disabled = false; }
});

const percent = (v) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)} %`);

function gradeTable(realized, estimated) {
  const table = el("table", "monitor-grades");
  const head = el("tr");
  for (const h of ["Grade", "Leads with outcome", "Converted", "Promised", "Estimated (no outcome yet)"]) head.append(el("th", "", h));
  table.append(head);
  const expected = new Map((estimated.grades || []).map((g) => [g.grade, g]));
  for (const g of realized.grades || []) {
    const row = el("tr");
    const est = expected.get(g.grade);
    row.append(el("td", "", g.grade), el("td", "", String(g.n)), el("td", "", percent(g.rate)),
      el("td", "", percent(g.promised)), el("td", "", est && est.n ? `${percent(est.rate)} of ${est.n}` : "–"));
    table.append(row);
  }
  return table;
}

function renderMonitor(data) {
  const box = $("monitor");
  const parts = [el("ul", "monitor-summary")];
  for (const line of data.summary || []) parts[0].append(el("li", "", line));
  const perf = data.performance || {};
  if (perf.realized && (perf.realized.grades || []).length) {
    parts.push(gradeTable(perf.realized, (perf.estimated || {}).unlabelled || {}));
  }
  box.replaceChildren(...parts);
}

async function loadMonitor() {
  $("monitor").replaceChildren(el("p", "muted", "Checking…"));
  try {
    renderMonitor(await call("GET", `/v1/monitor?since=${encodeURIComponent($("monitor-since").value)}`));
  } catch (e) {
    $("monitor").replaceChildren(el("p", "error", "Monitor: " + e.message));
  }
}

if (config.history) {
  $("refresh-recent").addEventListener("click", loadRecent);
  $("monitor-button").addEventListener("click", loadMonitor);
  loadRecent();
}
