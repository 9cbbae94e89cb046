// The served model's segments (GET /v1/model's `segments`, present only when the schema names
// a segment column): the segment column of the leads table, with a mark where a specialist
// rather than the global model scored the lead; the segment filter; and one line per segment
// (its model, ROC AUC and SQL cut-off) in the segments panel. Each team reads its own leads
// against its own cut-off. A model without a segment column leaves the page as it was.
// Values from the server are only ever set with textContent.
"use strict";

const Segments = (() => {
  let info = null;   // {column, segments: [{value, model, sql_cutoff, roc_auc, ...}]}, or null

  const column = () => (info ? info.column : null);
  const chosen = () => (info ? $("filter-segment").value : "");
  const find = (value) => (info ? info.segments.find((s) => s.value === value) : undefined);
  // A score answer says `model`, a history row `scored_by`: global or segment:<value>.
  const modelOf = (s) => (s && typeof s.model === "string" ? s.model : s && typeof s.scored_by === "string" ? s.scored_by : "");
  const isSpecialist = (name) => !!name && name !== "global";

  // The lead's segment value: as sent (or as the loaded file, or the history, has it).
  function valueOf(...sources) {
    const name = column();
    if (!name) return "";
    for (const source of sources) {
      const v = source ? source[name] : undefined;
      if (v !== null && v !== undefined && String(v).trim() !== "") return String(v).trim();
    }
    return "";
  }

  const rowValue = (row) => valueOf(row.lead, row.raw);

  function specialistMark(value, name) {
    const mark = el("span", "specialist-mark", "◆ specialist");
    mark.title = `Scored by the ${value || name.replace(/^segment:/, "")} specialist (${name}): `
      + "it beat the global model on this segment's backtest";
    return mark;
  }

  // The table cell: the segment value, and "◆ specialist" where one scored the lead.
  function cell(row) {
    const value = rowValue(row);
    const name = modelOf(row.score);
    const td = el("td", "segment");
    td.dataset.value = value;
    td.dataset.model = name;
    td.append(el("span", "segment-value", value || "–"));
    if (isSpecialist(name)) td.append(specialistMark(value, name));
    return td;
  }

  // Where SQL starts for the segment, as the server says (GradeBands.sql_from: its capacity
  // cut-off, else its lowest SQL grade).
  function sqlFrom(seg) {
    const cut = seg.sql_from;
    return typeof cut === "number" && Number.isFinite(cut) ? cut : null;
  }

  function segmentLine(seg) {
    const li = el("li", "segment-line");
    li.dataset.value = seg.value;
    li.dataset.model = seg.model || "";
    const specialist = isSpecialist(seg.model);
    const auc = numberOrNull(seg.roc_auc);
    const cut = sqlFrom(seg);
    const facts = [
      specialist ? "specialist" : "global model",
      `ROC AUC ${auc === null ? "–" : auc.toFixed(3)}`,
      cut === null ? "no SQL cut-off" : `SQL from score ${Math.round(cut * 100)}`
        + (typeof seg.sql_cutoff === "number" ? " (capacity)" : ""),
    ];
    if (numberOrNull(seg.leads) !== null) facts.push(`${plural(seg.leads, "lead")} in training`);
    li.append(el("strong", "segment-value", seg.value), el("span", "segment-facts", " · " + facts.join(" · ")));
    if (specialist) li.classList.add("specialist");
    if (typeof seg.note === "string") li.title = seg.note;
    return li;
  }

  function setup(data) {
    const found = data && data.segments && typeof data.segments.column === "string" ? data.segments : null;
    info = found ? { column: found.column, segments: Array.isArray(found.segments) ? found.segments : [] } : null;
    const select = $("filter-segment");
    const keep = select.value;
    const all = el("option", "", "all segments");
    all.value = "";
    const options = (info ? info.segments : []).map((seg) => {
      const o = el("option", "", seg.value);
      o.value = seg.value;
      return o;
    });
    select.replaceChildren(all, ...options);
    select.value = find(keep) ? keep : "";
    $("segment-filter").hidden = !info;
    $("segments-panel").hidden = !info;
    $("segments-column").textContent = info ? info.column : "";
    $("model-segments").replaceChildren(...(info ? info.segments.map(segmentLine) : []));
    Table.showSegments(column());
  }

  // Asks GET /v1/model (the answer shared with the capacity line); never fails: without an
  // answer (no key yet, say) the page stays as it is and is asked again after scoring.
  const load = (fresh = false) => modelInfo(fresh).then(setup).catch(() => {});

  // The capacity line follows the chosen segment (its cut-off, its leads).
  const refilter = () => { if (info && Table.allRows().length) Capacity.update(Table.allRows()); };
  $("filter-segment").addEventListener("change", refilter);
  $("clear-filters").addEventListener("click", refilter);

  return { load, column, chosen, find, valueOf, rowValue, modelOf, isSpecialist, specialistMark, cell };
})();
