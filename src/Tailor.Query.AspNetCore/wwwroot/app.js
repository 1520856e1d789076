// Tailor explorer: a form over /api/v1/contexts and /api/v1/query, a uPlot chart with one line per
// context, absent windows shaded, the query's stats, and the query in the URL so it can be shared.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const presets = { "6h": 6 * 3600, "1d": 86400, "7d": 7 * 86400, "30d": 30 * 86400, "90d": 90 * 86400 };
  const colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
  let chart = null;

  function range() {
    const preset = $("range").value;
    if (preset !== "custom") {
      // Aligned to the minute so a shared URL asks the same question again.
      const to = Math.ceil(Date.now() / 60000) * 60;
      return { from: String(to - presets[preset]), to: String(to) };
    }
    return { from: $("from").value.trim(), to: $("to").value.trim() || "now" };
  }

  function headers() {
    const key = $("key").value.trim() || sessionStorage.getItem("tailor-key") || "";
    if (key) sessionStorage.setItem("tailor-key", key);
    return key ? { Authorization: "Bearer " + key } : {};
  }

  async function api(path, params) {
    const response = await fetch(path + "?" + params.toString(), { headers: headers() });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const where = body && body.parameter ? " (" + body.parameter + ": " + body.rule + ")" : body && body.limit ? " (limit: " + body.limit + ")" : "";
      throw new Error(response.status + " " + (body ? body.title + ": " + body.detail + where : response.statusText));
    }
    return body;
  }

  function showError(message) {
    $("error").textContent = message;
    $("error").hidden = !message;
  }

  async function loadContexts() {
    showError("");
    const r = range();
    const params = new URLSearchParams({ org: $("org").value.trim(), metric: $("metric").value.trim(), from: r.from, to: r.to });
    try {
      const body = await api("api/v1/contexts", params);
      const picked = new Set([...$("contexts").selectedOptions].map((o) => o.value));
      $("contexts").replaceChildren(...body.contexts.map((c) => {
        const option = new Option((c.metadata ? c.metadata + "  " : "") + c.context + " (" + c.points + " points)", c.context);
        option.selected = picked.has(c.context);
        return option;
      }));
    } catch (e) {
      showError(e.message);
    }
  }

  function writeUrl(params) {
    const shown = new URLSearchParams(params);
    if ($("range").value !== "custom") { shown.delete("from"); shown.delete("to"); shown.set("range", $("range").value); }
    history.replaceState(null, "", "?" + shown.toString());
  }

  async function run(event) {
    if (event) event.preventDefault();
    showError("");
    const r = range();
    const params = new URLSearchParams({ org: $("org").value.trim(), metric: $("metric").value.trim(), from: r.from, to: r.to });
    for (const option of $("contexts").selectedOptions) params.append("context", option.value);
    const step = $("step").value.trim();
    if (step) { params.set("step", step); params.set("agg", $("agg").value); }
    writeUrl(params);
    try {
      draw(await api("api/v1/query", params), $("agg").value);
    } catch (e) {
      showError(e.message);
    }
  }

  function draw(result, agg) {
    const times = new Set();
    for (const s of result.series) for (const p of s.points) times.add(p[0]);
    const xs = Float64Array.from(times).sort();
    const index = new Map(Array.from(xs, (t, i) => [t, i]));
    const data = [Array.from(xs)];
    const series = [{}];
    const rows = [];
    result.series.forEach((s, n) => {
      // Raw points are [ts, value]; a stepped query's are [ts, one value per aggregation] in "columns" order.
      const at = s.columns ? Math.max(1, s.columns.indexOf(agg)) : 1;
      const ys = new Array(xs.length).fill(null);
      const values = s.points.map((p) => (typeof p[at] === "number" ? p[at] : null));
      s.points.forEach((p, i) => { ys[index.get(p[0])] = values[i]; });
      data.push(ys);
      const label = s.metadata || "";
      series.push({ label: label ? label + " " + s.context_id : s.context_id, stroke: colors[n % colors.length], width: 1.5, spanGaps: false });
      const finite = values.filter((v) => v !== null);
      rows.push([s.context_id, label, s.points.length, finite.length ? Math.min(...finite) : null, finite.length ? Math.max(...finite) : null, finite.length ? finite[finite.length - 1] : null]);
    });

    const absent = result.absent_ranges;
    const shade = (u) => {
      const ctx = u.ctx;
      ctx.save();
      ctx.fillStyle = "rgba(120, 120, 120, 0.15)";
      for (const w of absent) {
        const x0 = Math.max(u.bbox.left, u.valToPos(w.start, "x", true));
        const x1 = Math.min(u.bbox.left + u.bbox.width, u.valToPos(w.end, "x", true));
        if (x1 > x0) ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
      }
      ctx.restore();
    };
    if (chart) chart.destroy();
    const options = {
      width: Math.max(600, document.body.clientWidth - 40), height: 360,
      scales: { x: { time: true, range: () => [result.from, result.to] } },
      cursor: { drag: { x: true, y: false } },
      series, hooks: { drawClear: [shade] },
    };
    chart = new uPlot(options, data, $("chart"));
    window.tailorChart = { series: chart.series.length - 1, contexts: result.series.map((s) => s.context_id), absent: absent.length };

    const st = result.stats;
    $("stats").textContent = `${st.series} series · ${st.points} points · ${st.windows} windows (${absent.length} absent) · `
      + `${st.parts} parts · ${st.reads} reads · ${st.bytes} bytes · ${Math.round(st.seconds * 1000)} ms`
      + (result.unread ? ` · PARTIAL: ${result.unread.length} not read` : "");
    $("summary").tBodies[0].replaceChildren(...rows.map((cells) => {
      const tr = document.createElement("tr");
      tr.dataset.context = cells[0];
      for (const c of cells) { const td = document.createElement("td"); td.textContent = c === null ? "" : String(c); tr.append(td); }
      return tr;
    }));
  }

  function readUrl() {
    const q = new URLSearchParams(location.search);
    for (const name of ["org", "metric", "step", "agg"]) if (q.has(name)) $(name).value = q.get(name);
    if (q.has("range")) $("range").value = q.get("range");
    else if (q.has("from")) { $("range").value = "custom"; $("from").value = q.get("from"); $("to").value = q.get("to") || ""; }
    const contexts = q.getAll("context");
    $("contexts").replaceChildren(...contexts.map((c) => new Option(c, c, true, true)));
    return q.has("org") && q.has("metric");
  }

  $("query").addEventListener("submit", run);
  $("load-contexts").addEventListener("click", loadContexts);
  if (readUrl()) run();
})();
