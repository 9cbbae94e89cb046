// The detail panel for one lead: score, grade and stage, fit and engagement; the framework
// verdict, the 90 % interval's verdict and the unfamiliar flag; one bar per criterion in points
// of the 0–100 score; next steps; reasons, concerns, questions to ask, warnings; the values
// sent for the model's fields; and the lead's past scores as a small SVG line chart, with what
// moved each score.
"use strict";

const Detail = (() => {
  let shownFor = 0;    // bumps on every open: a late history answer for another lead is dropped
  let model = null;    // GET /v1/model, fetched once (for the average lead's score)

  function section(title, className) {
    const box = el("section", "detail-section " + (className || ""));
    box.append(el("h3", "", title));
    return box;
  }

  function list(items, className, empty) {
    const ul = el("ul", className);
    for (const item of items) ul.append(item);
    if (!items.length) ul.append(el("li", "muted none", empty));
    return ul;
  }

  function head(s, id, note) {
    const box = el("div", "detail-score");
    box.append(el("span", "big-score", String(s.score)), el("span", "of", "/ 100"));
    box.append(el("span", "grade " + (s.grade || ""), s.grade || "–"), el("span", "stage", s.stage || ""));
    if (s.trend) {
      const was = s.previous_score !== null && s.previous_score !== undefined ? ` (was ${s.previous_score})` : "";
      box.append(el("span", "trend " + s.trend, `${s.trend}${was}`));
    }
    if ("fit" in s || "engagement" in s) box.append(split(s));
    const q = qualifiedOf(s);
    const verdict = el("p", "qualified " + (q === true ? "yes" : q === false ? "no" : "unknown"), qualifiedText(s));
    const parts = [box, verdict];
    const interval = intervalText(s);
    if (interval) {
      const line = el("p", "interval", interval);
      line.dataset.verdict = s.interval.verdict;
      line.title = "The model's 90 % conformal interval for this lead's outcome: "
        + ((s.interval.outcomes || []).join(" or ") || "no outcome is likely enough (unlike the held-out leads)");
      parts.push(line);
    }
    if (isUnfamiliar(s)) parts.push(unfamiliarFlag(s));
    if (note) parts.push(el("p", "muted note", note));
    if (id && s.model_version) {
      const by = el("p", "muted note", `Scored by ${s.model_version}`);
      const routed = Segments.modelOf(s);
      if (Segments.isSpecialist(routed)) by.append(" · ", Segments.specialistMark("", routed));
      parts.push(by);
    }
    return parts;
  }

  // Fit (who they are) and engagement (what they did), each 0–100, beside the score.
  function split(s) {
    const box = el("span", "split");
    for (const [key, label, tip] of [
      ["fit", "Fit", "Who they are: demographic and firmographic pushes, 0–100"],
      ["engagement", "Engagement", "What they did: engagement pushes, 0–100"],
    ]) {
      const part = el("span", "split-part " + key);
      part.title = tip;
      const value = el("strong", key + "-value", fitText(s[key]));
      value.dataset.value = numberOrNull(s[key]) ?? "";
      part.append(el("span", "muted", label + " "), value);
      box.append(part);
    }
    return box;
  }

  function unfamiliarFlag(s) {
    const box = el("div", "unfamiliar-flag");
    box.append(el("p", "", "≠ Unfamiliar: unlike the leads the model learned from; read this score with care"));
    const reasons = unfamiliarReasons(s);
    if (reasons.length) box.append(list(reasons.map((r) => el("li", "", r)), "unfamiliar-reasons", ""));
    return box;
  }

  // Per criterion not met, the change a rep can make that raises the grade (the API's own
  // texts, e.g. "Authority: Decision role → Decision maker (score 71, B)").
  function nextSteps(s) {
    const box = section("Next steps", "next-steps");
    const items = (Array.isArray(s.next_steps) ? s.next_steps : []).filter((step) => step && step.text).map((step) => {
      const li = el("li", "step", step.text);
      if (step.criterion) li.dataset.criterion = step.criterion;
      return li;
    });
    const empty = s.grade === "A" ? "Already grade A" : "No single change a rep can make raises the grade";
    box.append(list(items, "steps", empty));
    return box;
  }

  function bars(s) {
    const box = section(`${frameworkOf(s)} criteria, in points of score`, "criteria-bars");
    const criteria = s.criteria || {};
    const sizes = Object.values(criteria).filter(hasPoints).map((c) => Math.abs(c.points));
    const scale = Math.max(5, ...sizes);
    const grid = el("div", "bars");
    for (const [name, label] of config.criteria) {
      const c = criteria[name];
      const verdict = verdictOf(c);
      const row = el("div", "bar-row " + verdict);
      row.dataset.criterion = name;
      row.dataset.verdict = verdict;
      // No points in the answer (an older server): no bar, rather than one in other units.
      const track = el("div", hasPoints(c) ? "track" : "no-track");
      if (hasPoints(c)) {
        const bar = el("div", "bar " + verdict);
        const width = Math.max(1, (Math.abs(c.points) / scale) * 50);
        bar.style.width = width + "%";
        bar.style.left = c.points >= 0 ? "50%" : 50 - width + "%";
        track.append(bar);
      }
      let value = verdict === "unknown" ? "unknown — ask" : VERDICTS[verdict];
      if (hasPoints(c)) value = verdict === "unknown" ? `${pointsText(c.points)} · unknown — ask` : `${pointsText(c.points)} · ${VERDICTS[verdict]}`;
      track.title = `${label}: ${value}`;
      row.append(el("span", "bar-label", label), track, el("span", "bar-value", value));
      grid.append(row);
    }
    box.append(grid);
    const base = typeof s.base_score === "number" ? s.base_score : model && typeof model.base_score === "number" ? model.base_score : null;
    const caption = el("p", "muted legend");
    caption.textContent = base === null
      ? "Bars: what each criterion adds to (right) or takes from (left) this lead's score."
      : `Bars: what each criterion adds to or takes from the average lead's score, ${Math.round(base)}, to reach this lead's ${s.score} (the average lead has every answer at its average; its score is not the share of leads that convert, which a few far likelier or less likely leads move).`;
    box.append(caption);
    return box;
  }

  function reasonItem(r, className) {
    const li = el("li", className, r.text);
    if (hasPoints(r)) li.append(el("span", "pts", pointsText(r.points)));
    return li;
  }

  function explained(s) {
    const reasons = section("Reasons", "reasons-section");
    reasons.append(list([
      ...(s.reasons || []).map((r) => reasonItem(r, "plus")),
      ...(s.concerns || []).map((r) => reasonItem(r, "minus")),
    ], "reasons", "No field moved the score by half a point or more."));
    const questions = section("Questions to ask", "questions");
    const asks = (s.questions || []).map((q) => {
      const li = el("li", "", q.text);
      if (q.criterion) li.dataset.criterion = q.criterion;
      return li;
    });
    questions.append(list(asks, "asks", "None: every criterion could be judged."));
    const warnings = section("Warnings", "warnings");
    warnings.append(list(texts(s.warnings).map((t) => el("li", "warn", t)), "warn-list", "None."));
    return [reasons, questions, warnings];
  }

  function fieldValues(lead, title) {
    const box = section(title, "fields");
    const table = el("table", "field-values");
    for (const name of config.fieldOrder || Object.keys(config.fields)) {
      const spec = config.fields[name];
      const tr = el("tr");
      tr.dataset.field = name;
      const value = lead ? lead[name] : undefined;
      const given = value !== undefined && value !== null && value !== "";
      const shown = !given ? "not given" : typeof value === "boolean" ? (value ? "yes" : "no") : String(value);
      tr.append(el("th", "", spec ? spec.display : name), el("td", given ? "" : "muted", shown));
      table.append(tr);
    }
    box.append(table);
    return box;
  }

  function chart(scores) {
    const w = 380, h = 140, left = 30, right = 16, top = 22, bottom = 22;
    const x = (i) => left + (scores.length === 1 ? 0 : (i * (w - left - right)) / (scores.length - 1));
    const y = (v) => top + ((100 - v) * (h - top - bottom)) / 100;
    const root = svg("svg", { viewBox: `0 0 ${w} ${h}`, class: "history-chart", role: "img" });
    const label = svg("title");
    label.textContent = `Score over ${scores.length} scorings`;
    root.append(label);
    for (const v of [0, 50, 100]) {
      root.append(svg("line", { x1: left, x2: w - right, y1: y(v), y2: y(v), class: "grid" }));
      const t = svg("text", { x: left - 6, y: y(v) + 4, class: "axis", "text-anchor": "end" });
      t.textContent = String(v);
      root.append(t);
    }
    root.append(svg("polyline", { points: scores.map((r, i) => `${x(i)},${y(r.score)}`).join(" "), class: "line" }));
    scores.forEach((r, i) => {
      const dot = svg("circle", { cx: x(i), cy: y(r.score), r: 4, class: "dot " + (r.grade || "") });
      const tip = svg("title");
      tip.textContent = `${r.score} (${r.grade}) on ${new Date(r.scored_at).toLocaleString()} by ${r.model_version}`;
      dot.append(tip);
      const value = svg("text", { x: x(i), y: y(r.score) - 8, class: "value", "text-anchor": "middle" });
      value.textContent = String(r.score);
      root.append(dot, value);
    });
    const ends = [scores[0], scores[scores.length - 1]].map((r) => new Date(r.scored_at).toLocaleDateString());
    const when = svg("text", { x: left, y: h - 4, class: "axis" });
    when.textContent = ends[0] === ends[1] ? ends[0] : `${ends[0]} → ${ends[1]}`;
    root.append(when);
    return root;
  }

  // What moved each score from the one before (the history's `change`, when the server has
  // it): "62 → 71: Budget +8.7, Timing +0.4", oldest first, the last MOVES of them.
  const MOVES = 10;
  function movers(scores) {
    const items = [];
    const changed = scores.filter((r) => r.change);
    for (const r of changed.slice(-MOVES)) {
      const text = changeText(r.change);
      if (!text) continue;
      const li = el("li", "move");
      li.dataset.from = r.change.from_score;
      li.dataset.to = r.change.to_score;
      li.append(el("span", "move-text", text), el("span", "muted when", new Date(r.scored_at).toLocaleString()));
      if (r.change.same_model === false) li.title = "Scored by another model: 'New model' is how much the average lead's score moved with it";
      items.push(li);
    }
    if (!items.length) return null;
    const box = el("div", "moves");
    const more = changed.length > MOVES ? ` (the last ${MOVES} of ${changed.length} changes)` : "";
    box.append(el("h4", "", "What moved it" + more), list(items, "move-list", ""));
    return box;
  }

  function history(id, ticket) {
    const box = section("Score history", "history");
    const body = el("div", "history-body", config.history ? "Loading…" : "no earlier scores (history is off on this server)");
    box.append(body);
    if (!config.history || !id) {
      if (!id) body.textContent = "no earlier scores (this lead has no id)";
      return box;
    }
    call("GET", `/v1/history/${encodeURIComponent(id)}?limit=50`).then((data) => {
      if (ticket !== shownFor) return;
      const scores = (data.scores || []).filter((r) => typeof r.score === "number");
      if (scores.length < 2) { body.textContent = "no earlier scores"; return; }
      body.replaceChildren(chart(scores), el("p", "muted legend", `${scores.length} scores, oldest first`));
      const moves = movers(scores);
      if (moves) body.append(moves);
    }).catch((e) => {
      if (ticket !== shownFor) return;
      body.textContent = e.status === 404 ? "no earlier scores" : `History unavailable: ${e.message}`;
    });
    return box;
  }

  // row: {id, lead (fields as sent), score (as answered)}; note: a line under the score.
  function open(row, note) {
    const ticket = ++shownFor;
    const s = row.score;
    const id = s.lead_id ?? null;
    $("detail-title").textContent = id ?? row.id ?? "Lead";
    const steps = "next_steps" in s ? [nextSteps(s)] : [];
    const parts = [...head(s, id, note), bars(s), ...steps, ...explained(s), history(id, ticket),
      fieldValues(row.lead, row.fieldsTitle || "Fields as sent")];
    $("detail-body").replaceChildren(...parts);
    $("detail").hidden = false;
    $("detail").dataset.leadId = id ?? "";
    if (!model && s.criteria && !("base_score" in s)) loadModel(row, ticket);
  }

  // The average lead's score (GET /v1/model's base_score, issue-13 API) for the bars' caption.
  function loadModel(row, ticket) {
    model = {};
    modelInfo().then((data) => {
      model = data;
      if (typeof data.base_score === "number" && ticket === shownFor && !$("detail").hidden) {
        const old = $("detail-body").querySelector(".criteria-bars");
        if (old) old.replaceWith(bars(row.score));
      }
    }).catch(() => {});  // no key yet, say: the caption simply goes without it
  }

  function close() {
    shownFor++;
    $("detail").hidden = true;
    $("detail-body").replaceChildren();
    for (const tr of document.querySelectorAll("#rows tr.selected")) tr.classList.remove("selected");
  }

  $("detail-close").addEventListener("click", close);
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !$("detail").hidden) close(); });

  return { open, close };
})();
