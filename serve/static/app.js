// The sales-ops page: read leads from a CSV or pasted text, score them in batches through the
// same /v1 API a CRM calls (?detail=full: next steps, the 90 % interval, the unfamiliar flag),
// and hand them to the table, the account view and the capacity line (table.js) and the
// detail panel (detail.js). A failed request clears the results and lists every problem the server named.
// Values from the server are only ever set with textContent (never innerHTML).
"use strict";

// "leads[3].site_visits" in batch starting at 1000 → "Lead 1,004 (L0019504) · site_visits".
function where(field, start, batch) {
  const match = /^leads\[(\d+)\]\.?(.*)$/.exec(field || "");
  if (!match) return field || "request";
  const i = Number(match[1]);
  const lead = batch[i] || {};
  const id = config.idField && lead[config.idField] !== undefined ? ` (${lead[config.idField]})` : "";
  const name = match[2];
  const label = name && config.fields[name] ? `${config.fields[name].display} (${name})` : name || "the lead";
  return `Lead ${count(start + i + 1)}${id} · ${label}`;
}

function showProblems(error, start = 0, batch = []) {
  Table.clear();
  Detail.close();
  const listed = error instanceof ApiError ? error.errors : [];
  const items = listed.length
    ? listed.map((e) => {
      const li = el("li");
      li.dataset.field = e.field || "";
      li.append(el("strong", "", where(e.field, start, batch)), document.createTextNode(": " + (e.message || "invalid")));
      return li;
    })
    : [el("li", "", error.message)];
  const total = listed.length ? Math.max(error.total || 0, items.length) : items.length;
  if (total > items.length) items.push(el("li", "", `… and ${count(total - items.length)} more`));
  $("errors").replaceChildren(...items);
  $("errors-count").textContent = plural(total, "problem");
  $("errors-summary").textContent = error.status
    ? `The server refused the request (HTTP ${error.status}); fix these and score again.`
    : "Fix this and score again.";
  $("errors-panel").hidden = false;
  setStatus(`Scoring failed: ${plural(total, "problem")}, listed below`, true);
}

function progress(done, total) {
  const bar = $("progress");
  bar.hidden = total === 0;
  bar.max = Math.max(1, total);
  bar.value = done;
}

async function scoreText(text) {
  $("errors-panel").hidden = true;
  Detail.close();
  let leads, ignored, raws, columns;
  try { ({ leads, ignored, raws, columns } = readLeads(text)); } catch (e) { showProblems(e); return; }
  const scored = [];
  let objected = 0; // leads that objected to profiling: answered scored: false, not shown
  progress(0, leads.length);
  for (let start = 0; start < leads.length; start += config.maxLeads) {
    const batch = leads.slice(start, start + config.maxLeads);
    setStatus(`Scoring ${count(start + batch.length)} of ${plural(leads.length, "lead")}…`);
    let data;
    try {
      data = await call("POST", "/v1/score?detail=full", { leads: batch });
    } catch (e) {
      progress(0, 0);
      showProblems(e, start, batch);
      return;
    }
    data.scores.forEach((score, i) => {
      if (score.scored === false) objected += 1;
      else scored.push({ lead: batch[i], raw: raws[start + i], score });
    });
    progress(start + batch.length, leads.length);
  }
  Table.set(scored, (row) => Detail.open(row));
  Accounts.set(Table.allRows(), columns);
  Capacity.update(Table.allRows());
  Segments.load(); // after the capacity line's fresh GET /v1/model: the same answer
  let note = ignored.length ? ` (ignored columns: ${ignored.join(", ")})` : "";
  if (objected) note += `; ${plural(objected, "lead")} objected to profiling: not scored`;
  setStatus(`Scored ${plural(scored.length, "lead")}${note}`);
  setTimeout(() => progress(0, 0), 800);
  if (config.history) loadRecent();
}

async function loadRecent() {
  const list = $("recent");
  try {
    const data = await call("GET", "/v1/history?limit=30");
    list.replaceChildren();
    if (!data.leads.length) list.append(el("li", "muted", "No leads scored yet."));
    for (const row of data.leads) {
      const item = el("li");
      const button = el("button", "", `${row.lead_id} · ${row.score} ${row.grade}`);
      button.type = "button";
      button.dataset.leadId = row.lead_id;
      const segment = Segments.valueOf(row.features);
      if (segment) {
        button.append(el("span", "muted", ` · ${segment}`));
        if (Segments.isSpecialist(row.scored_by)) button.append(" ", Segments.specialistMark(segment, row.scored_by));
      }
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
    const when = new Date(row.scored_at).toLocaleString();
    Detail.open(
      { id: row.lead_id, lead, score: { ...e, trend: null }, fieldsTitle: "Fields as the history kept them" },
      `As scored on ${when}, explained again by ${e.model_version}`,
    );
    setStatus(`Lead ${row.lead_id}, as scored on ${when}, explained by ${e.model_version}`);
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
  catch (e) { showProblems(e); }
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

// The segment column, filter and panel, for a model with a segment column; the recent list
// waits for it (never more than the one GET it takes) to show each lead's segment.
// Not asked before a key is given where one is needed: a 401 would say nothing.
const segmentsLoaded = !config.authRequired || $("api-key").value.trim() ? Segments.load() : Promise.resolve();
if (config.history) {
  $("refresh-recent").addEventListener("click", loadRecent);
  $("monitor-button").addEventListener("click", loadMonitor);
  segmentsLoaded.then(loadRecent);
}
