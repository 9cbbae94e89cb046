// Shared by the page's scripts (plain <script> tags, loaded in order; no build step):
// the page config, DOM helpers, reading leads from CSV or JSON, calling the API, and the
// words for verdicts and points. Values from the server are only ever set with textContent.
"use strict";

const config = JSON.parse(document.getElementById("page-config").textContent);
const $ = (id) => document.getElementById(id);
const accepted = new Set([...(config.idField ? [config.idField] : []), ...Object.keys(config.fields)]);
const placeholders = new Set(config.missingValues.map((v) => v.trim()));
const SVG_NS = "http://www.w3.org/2000/svg";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

const count = (n) => n.toLocaleString("en-US");
const plural = (n, word) => `${count(n)} ${word}${n === 1 ? "" : "s"}`;

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

// One CSV cell. Text that a spreadsheet would run as a formula (=, +, -, @ first) gets a
// leading apostrophe: lead ids and reasons come from a CRM export, not from us.
function csvCell(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const csvText = (header, rows) =>
  [header, ...rows].map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";

// Keep only the fields the model reads (and the id); blanks are left out (not sent), every
// other value is sent as the file writes it: whether "Select" means "not answered" or "N/A"
// unknown is the server's rule, the same as `leadml score` applies to the file, so the page
// shows the warnings the API returns and makes none of its own. PII and other columns never
// leave the page.
function cleanLead(raw, ignored) {
  const lead = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = key.trim();
    if (!accepted.has(name)) { ignored.add(name); continue; }
    if (value === null || value === undefined) continue;
    const text = typeof value === "string" ? value.trim() : value;
    if (text === "") continue;
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

// The leads to send (model fields only), the columns left out, and every row as read with
// the file's columns in order: the account view groups by any of them, in the browser only.
function readLeads(text) {
  const ignored = new Set();
  const trimmed = text.trim();
  if (!trimmed) throw new Error("nothing to score: upload a CSV or paste leads");
  let raws, columns;
  if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
    let data;
    try { data = JSON.parse(trimmed); } catch (e) { throw new Error("the pasted JSON is not valid: " + e.message); }
    raws = Array.isArray(data) ? data : Array.isArray(data.leads) ? data.leads : [data];
    if (raws.some((r) => r === null || typeof r !== "object" || Array.isArray(r))) {
      throw new Error("every pasted JSON lead must be an object of field: value");
    }
    raws = raws.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.trim(), v])));
    columns = [...new Set(raws.flatMap((r) => Object.keys(r)))].filter(Boolean);
  } else {
    const rows = parseCSV(trimmed);
    if (rows.length < 2) throw new Error("the CSV needs a header row and at least one lead");
    const header = rows[0].map((h) => h.trim());
    raws = rows.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""])));
    columns = [...new Set(header)].filter(Boolean);
  }
  return { leads: raws.map((r) => cleanLead(r, ignored)), ignored: [...ignored], raws, columns };
}

// GET /v1/model, asked once and shared (the bars' average lead, the capacity cut-off); a
// failed call (no key yet, say) is asked again next time, and `fresh` asks again anyway.
let modelInfoCall = null;
function modelInfo(fresh = false) {
  if (!modelInfoCall || fresh) {
    modelInfoCall = call("GET", "/v1/model").catch((e) => { modelInfoCall = null; throw e; });
  }
  return modelInfoCall;
}

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) h.Authorization = "Bearer " + key;
  return h;
}

// A failed call: the server's one-line detail, and every {field, message, type} it listed.
class ApiError extends Error {
  constructor(status, detail, errors, total) {
    super(detail);
    this.status = status;
    this.errors = Array.isArray(errors) ? errors : [];
    // the server lists at most 20 problems and counts them all in error_count
    this.total = Number.isInteger(total) && total > this.errors.length ? total : this.errors.length;
  }
}

async function call(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method, headers: headers(), body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, `the server did not answer (${e.message})`, []);
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof data.detail === "string" ? data.detail : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, detail, data.errors, data.error_count);
  }
  return data;
}

// -- words ---------------------------------------------------------------------------------
const VERDICTS = { met: "met", "not-met": "not met", unknown: "unknown" };
const verdictOf = (c) => (!c || c.met === null || c.met === undefined ? "unknown" : c.met ? "met" : "not-met");
const hasPoints = (x) => !!x && typeof x.points === "number" && Number.isFinite(x.points);

function pointsText(points) {
  const size = Math.abs(points);
  const shown = size < 1 ? size.toFixed(1) : String(Math.round(size));
  if (shown === "0" || shown === "0.0") return "0 pts";
  return `${points < 0 ? "−" : "+"}${shown} pts`;
}

const frameworkOf = (s) => String((s && s.framework) || config.framework).toUpperCase();

// The lead's verdict under the framework: true / false / null (cannot judge). Before the
// issue-13 API, only BANT had one ("bant_qualified").
function qualifiedOf(s) {
  if ("qualified" in s) return s.qualified ?? null;
  if ("bant_qualified" in s && frameworkOf(s) === "BANT") return s.bant_qualified ?? null;
  return null;
}

function qualifiedText(s) {
  const name = frameworkOf(s), q = qualifiedOf(s);
  // A model that records too few criteria judges no lead: the header says so once, and each
  // lead does not repeat "cannot judge yet" as if an answer were still to come.
  if (config.judges === false) return `${name}: not judged (see above)`;
  return q === true ? `${name} qualified` : q === false ? `not ${name} qualified` : `${name}: cannot judge yet`;
}

const texts = (items) => (Array.isArray(items) ? items : []).map((i) => (typeof i === "string" ? i : i && (i.message || i.text) || "")).filter(Boolean);

// A move in points with its sign, to the tenth: "+8.7", "−0.4" (what moved a score).
function signedPoints(points) {
  const shown = Math.abs(points).toFixed(1);
  if (shown === "0.0") return "0.0";
  return (points < 0 ? "−" : "+") + shown;
}

// A chance as a whole percent that never reads as certain when it is not: "<1 %", ">99 %".
function chanceText(p) {
  if (typeof p !== "number" || !Number.isFinite(p)) return "–";
  const shown = Math.round(p * 100);
  if (shown === 0 && p > 0) return "<1 %";
  if (shown === 100 && p < 1) return ">99 %";
  return `${shown} %`;
}

const numberOrNull = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);
const fitText = (v) => (numberOrNull(v) === null ? "–" : String(Math.round(v)));
const isUnfamiliar = (s) => !!(s && s.unfamiliar && s.unfamiliar.unfamiliar === true);
const unfamiliarReasons = (s) => (s && s.unfamiliar && Array.isArray(s.unfamiliar.reasons) ? s.unfamiliar.reasons.filter((r) => typeof r === "string") : []);
const stepTexts = (s) => texts(s && s.next_steps);

// "90 % interval: could go either way", or null when the answer has no interval.
function intervalText(s) {
  const i = s && s.interval;
  if (!i || typeof i.verdict !== "string") return null;
  const level = typeof i.level === "number" ? Math.round(i.level * 100) : 90;
  return `${level} % interval: ${i.verdict}`;
}

// Criterion names in what moved a score: the framework's labels, plus the two extra entries.
function moverLabel(name) {
  const known = config.criteria.find(([c]) => c === name);
  if (known) return known[1];
  if (name === "other") return "Other fields";
  if (name === "model") return "New model";
  return name;
}

// "62 → 71: Budget +8.7, Timing +0.4" from a history row's change (null: no change field).
function changeText(change) {
  if (!change || typeof change.from_score !== "number" || typeof change.to_score !== "number") return null;
  const head = `${change.from_score} → ${change.to_score}`;
  if (!Array.isArray(change.criteria)) return `${head}: not explained (scored without criteria)`;
  const parts = change.criteria.filter(hasPoints).map((m) => `${moverLabel(m.criterion)} ${signedPoints(m.points)}`);
  const rest = numberOrNull(change.smaller_moves);
  if (rest !== null && Math.abs(rest) >= 0.05) parts.push(`smaller moves ${signedPoints(rest)}`);
  return `${head}: ${parts.length ? parts.join(", ") : "no criterion moved"}`;
}
