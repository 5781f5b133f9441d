/* jaeger-lite web UI: the search page.
   The form (service, operation, tags, lookback, durations, limit), the result list and the
   duration-over-time scatter plot, kept up to date as traces arrive (the agent's
   /api/ui/changes answers when something changed: no reload, no busy polling). */
"use strict";

(function () {
  const JL = window.JL;
  const el = JL.el;
  const $ = (id) => document.getElementById(id);

  const FIELDS = ["service", "operation", "tags", "lookback", "minDuration", "maxDuration", "limit"];
  const search = (JL.search = { lastParams: null, fileName: null, fileTraces: null });

  /* "http.status_code=500 error=true msg=\"a b\"" -> {"http.status_code": "500", ...} */
  JL.parseLogfmt = function (text) {
    const tags = {};
    const pattern = /\s*([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/y;
    let pos = 0;
    text = text.trim();
    while (pos < text.length) {
      pattern.lastIndex = pos;
      const match = pattern.exec(text);
      if (!match) throw new Error("tags must be key=value pairs separated by spaces");
      let value = match[2];
      if (value.startsWith('"')) value = JSON.parse(value);
      tags[match[1]] = value;
      pos = pattern.lastIndex;
      while (pos < text.length && /\s/.test(text[pos])) pos++;
    }
    return tags;
  };

  function durationParam(text) {
    text = text.trim();
    return /^\d+(\.\d+)?$/.test(text) ? text + "ms" : text;
  }

  /* The query string of /api/traces for the form's values (hash parameters). */
  function apiQuery(params) {
    const query = new URLSearchParams();
    for (const name of ["service", "operation", "lookback", "limit"]) {
      if (params.get(name)) query.set(name, params.get(name));
    }
    for (const name of ["minDuration", "maxDuration"]) {
      if (params.get(name)) query.set(name, durationParam(params.get(name)));
    }
    const tags = JL.parseLogfmt(params.get("tags") || "");
    if (Object.keys(tags).length) query.set("tags", JSON.stringify(tags));
    if (!query.get("limit")) query.set("limit", "20");
    return query;
  }

  function formParams() {
    const params = new URLSearchParams();
    for (const name of FIELDS) {
      const value = $(name).value.trim();
      if (value) params.set(name, value);
    }
    return params;
  }

  async function loadServices(selected) {
    const select = $("service");
    let services = [];
    try {
      services = (await JL.fetchJSON("/api/services")).data || [];
    } catch (err) {
      JL.status("cannot list services: " + err.message, true);
    }
    const current = selected !== undefined ? selected : select.value;
    const shown = [...select.options].map((o) => o.value).slice(1);
    if (selected === undefined && JSON.stringify(shown) === JSON.stringify(services)) return;
    JL.clear(select);
    select.append(el("option", { value: "" }, "All services"));
    for (const name of services) {
      JL.colorFor(name);
      select.append(el("option", { value: name }, name));
    }
    if (current && !services.includes(current)) select.append(el("option", { value: current }, current));
    select.value = current || "";
  }

  async function loadOperations(service, selected) {
    const select = $("operation");
    JL.clear(select);
    select.append(el("option", { value: "" }, "All operations"));
    if (service) {
      try {
        // The service goes in the query, not the path: a browser resolves a path segment
        // "." or ".." (even written %2E%2E) away before sending, so a service named so
        // could not list its operations under /api/services/NAME/operations.
        const doc = await JL.fetchJSON("/api/operations?service=" + encodeURIComponent(service));
        const names = [...new Set((doc.data || []).map((op) => op.name))];
        for (const name of names) select.append(el("option", { value: name }, name));
      } catch (err) {
        JL.status("cannot list operations: " + err.message, true);
      }
    }
    if (selected && ![...select.options].some((o) => o.value === selected)) {
      select.append(el("option", { value: selected }, selected));
    }
    select.value = selected || "";
  }

  const SORTS = {
    recent: (a, b) => b.start - a.start,
    longest: (a, b) => b.duration - a.duration,
    shortest: (a, b) => a.duration - b.duration,
    spans: (a, b) => b.spans.length - a.spans.length,
    errors: (a, b) => b.errors - a.errors,
  };

  function scatter(traces) {
    const box = JL.clear($("scatter"));
    if (!traces.length) return;
    const W = 900, H = 170, L = 56, R = 14, T = 12, B = 26;
    const starts = traces.map((t) => t.start);
    const t0 = Math.min(...starts), t1 = Math.max(...starts);
    const maxDuration = Math.max(...traces.map((t) => t.duration), 1);
    const x = (t) => (t1 === t0 ? (L + W - R) / 2 : L + ((t - t0) / (t1 - t0)) * (W - L - R));
    const y = (d) => H - B - (d / maxDuration) * (H - T - B);
    const points = traces.map((t) =>
      JL.svg("circle", {
        class: "point" + (t.errors ? " point-error" : ""),
        cx: x(t.start).toFixed(1), cy: y(t.duration).toFixed(1),
        r: (3 + Math.min(Math.sqrt(t.spans.length), 7)).toFixed(1),
        fill: JL.colorFor(t.root ? t.root.service : "?"),
        tabindex: "0",
        dataset: { traceId: t.traceID },
        onclick: () => JL.openTrace(t.traceID, search.fileTraces ? "file" : ""),
      }, JL.svg("title", null, JL.isolated(t.name) + " · " + JL.formatDuration(t.duration) + " · " + JL.formatTime(t.start)))
    );
    box.append(JL.svg("svg", { viewBox: "0 0 " + W + " " + H, class: "scatter", role: "img", "aria-label": "trace duration over time" }, [
      JL.svg("line", { class: "axis-line", x1: L, y1: H - B, x2: W - R, y2: H - B }),
      JL.svg("line", { class: "axis-line", x1: L, y1: T, x2: L, y2: H - B }),
      JL.svg("text", { x: L - 6, y: T + 8, "text-anchor": "end", class: "axis-text" }, JL.formatDuration(maxDuration)),
      JL.svg("text", { x: L - 6, y: H - B, "text-anchor": "end", class: "axis-text" }, "0"),
      JL.svg("text", { x: L, y: H - 6, class: "axis-text" }, JL.formatTime(t0)),
      JL.svg("text", { x: W - R, y: H - 6, "text-anchor": "end", class: "axis-text" }, t1 !== t0 ? JL.formatTime(t1) : ""),
      points,
    ]));
  }

  function resultItem(t) {
    const source = search.fileTraces ? "file" : "";
    return el("li", { class: "result" + (t.errors ? " has-errors" : ""), dataset: { traceId: t.traceID } }, [
      el("div", { class: "result-head" }, [
        el("a", {
          class: "result-title",
          href: "#/trace/" + encodeURIComponent(t.traceID) + (source ? "?source=file" : ""),
        }, [el("span", { class: "trace-name" }, JL.nameNodes(t)), " ", el("span", { class: "trace-id" }, t.traceID.slice(0, 7))]),
        el("span", { class: "result-duration" }, JL.formatDuration(t.duration)),
      ]),
      el("div", { class: "result-body" }, [
        el("span", { class: "span-count" }, JL.plural(t.spans.length, "span")),
        t.errors ? el("span", { class: "error-count" }, JL.plural(t.errors, "error")) : null,
        el("ul", { class: "service-chips" }, t.services.map((s) =>
          el("li", { class: "chip", dataset: { service: s.name } }, [
            el("span", { class: "service-swatch", style: { backgroundColor: JL.colorFor(s.name) } }),
            el("span", null, [JL.bdi(s.name), " (" + s.count + ")"]),
          ])
        )),
        el("span", { class: "result-time", title: JL.formatTime(t.start) }, JL.formatTime(t.start) + " · " + JL.formatAgo(t.start)),
      ]),
    ]);
  }

  function showResults(raws, note) {
    const traces = raws.map(JL.prepareTrace);
    traces.sort(SORTS[$("sort").value] || SORTS.recent);
    search.shown = raws;
    $("result-count").textContent = JL.plural(traces.length, "trace") + (note ? " · " + note : "");
    scatter(traces);
    const list = JL.clear($("results"));
    if (!traces.length) list.append(el("li", { class: "empty muted" }, "No trace matches. Spans appear here as the agent receives them."));
    for (const t of traces) list.append(resultItem(t));
  }

  /* Run the search described by the hash parameters (and show them in the form). */
  /* Each search, and each opened file, takes the next number; a search still waiting for
     the agent when a newer one (or a file) arrives drops its answer instead of drawing
     it over the newer results (seen: a file's traces replaced by the page's first search,
     whose answer came late on a loaded machine). */
  let generation = 0;

  search.run = async function (params, live) {
    const mine = ++generation;
    const current = () => mine === generation;
    search.lastParams = params;
    search.fileTraces = null;
    $("file-banner").hidden = true;
    if (live) {
      await loadServices(); // new services may have arrived; the form keeps what is typed
    } else {
      for (const name of ["tags", "lookback", "minDuration", "maxDuration", "limit"]) {
        $(name).value = params.get(name) || (name === "limit" ? "20" : "");
      }
      await loadServices(params.get("service") || "");
      if (!current()) return;
      await loadOperations(params.get("service") || "", params.get("operation") || "");
    }
    if (!current()) return;
    let query;
    try {
      query = apiQuery(params);
    } catch (err) {
      JL.status(err.message, true);
      return;
    }
    try {
      const doc = await JL.fetchJSON("/api/traces?" + query.toString());
      if (!current()) return;
      JL.status("");
      showResults(doc.data || [], null);
    } catch (err) {
      if (current()) JL.status(err.message, true);
    }
  };

  /* Show traces opened from a file (they are not sent to the agent). */
  search.showFile = function (name, traces) {
    generation++; // a search still in flight must not replace these results
    search.fileName = name;
    search.fileTraces = new Map(traces.map((t) => [t.traceID, t]));
    $("file-banner").hidden = false;
    $("file-name").textContent = name;
    showResults(traces, "from " + name);
  };

  search.refresh = function () {
    if (search.fileTraces) showResults([...search.fileTraces.values()], "from " + search.fileName);
    else if (search.lastParams) search.run(search.lastParams);
  };

  /* Ask the agent to answer when spans arrive; re-run the visible search then. */
  async function watch() {
    let version = -1;
    for (;;) {
      const began = Date.now();
      try {
        const doc = await JL.fetchJSON("/api/ui/changes?since=" + version + "&wait=25");
        const changed = version !== -1 && doc.data.version !== version;
        version = doc.data.version;
        $("live-status").textContent = JL.plural(doc.data.traces, "trace") + " stored";
        if (changed && $("live").checked && JL.currentView === "search" && !search.fileTraces) {
          await search.run(search.lastParams || new URLSearchParams(), true);
        }
      } catch (err) {
        $("live-status").textContent = "agent not reachable";
      }
      const elapsed = Date.now() - began;
      await new Promise((done) => setTimeout(done, Math.max(0, 500 - elapsed)));
    }
  }

  search.init = function () {
    $("search-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const target = "#/search?" + formParams().toString();
      if (location.hash === target) search.run(formParams());
      else location.hash = target;
    });
    $("service").addEventListener("change", () => loadOperations($("service").value, ""));
    $("sort").addEventListener("change", () => {
      if (search.shown) showResults(search.shown, search.fileTraces ? "from " + search.fileName : null);
    });
    $("close-file").addEventListener("click", () => {
      search.fileTraces = null;
      $("file-banner").hidden = true;
      search.run(search.lastParams || new URLSearchParams());
    });
    watch();
  };
})();
