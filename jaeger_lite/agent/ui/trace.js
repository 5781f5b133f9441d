/* jaeger-lite web UI: the trace view.
   The span tree (collapsible) beside the time axis, as Jaeger's waterfall: one row per span
   in tree order, bars placed by start and sized by duration, a colour per service, errors
   marked, FollowsFrom dashed, orphans flagged, the critical path darkened. A click on a row
   opens its details: tags, process, logs (relative to the trace start), references, ids. */
"use strict";

(function () {
  const JL = window.JL;
  const el = JL.el;

  const LINK_TEXT = {
    follows: "follows from its parent (FollowsFrom)",
    orphan: "parent span not received",
    cycle: "reference cycle cut here",
  };

  function percent(x) {
    return (Math.round(x * 1e6) / 1e4) + "%";
  }

  function tagTable(tags, className) {
    if (!tags.length) return el("p", { class: "muted" }, "none");
    return el(
      "table",
      { class: "kv " + className },
      tags.map((t) =>
        el("tr", { dataset: { key: t.key } }, [
          el("th", { scope: "row" }, t.key),
          el("td", { class: "type-" + (t.type || "string") }, JL.valueText(t.value)),
        ])
      )
    );
  }

  function section(title, body) {
    return el("section", { class: "detail-section" }, [el("h4", null, title), body]);
  }

  function detailPanel(trace, span, view) {
    const parentText = span.parentID
      ? span.parentID + (span.link === "orphan" ? " (not received)" : "")
      : "none (root span)";
    const facts = [
      ["Service", span.service],
      ["Operation", span.operation],
      ["Duration", JL.formatDuration(span.duration)],
      ["Start", "+" + JL.formatDuration(span.start - trace.start) + " (" + JL.formatTime(span.start) + ")"],
      ["Span ID", span.spanID],
      ["Parent ID", parentText],
      ["Trace ID", span.traceID],
    ];
    if (span.raw.flags !== undefined) facts.push(["Flags", String(span.raw.flags)]);
    const logs = span.logs.length
      ? el(
          "ol",
          { class: "logs" },
          span.logs.map((entry) =>
            el("li", { class: "log-entry" }, [
              el("span", { class: "log-time" }, "+" + JL.formatDuration(entry.timestamp - trace.start)),
              tagTable(entry.fields || [], "log-fields"),
            ])
          )
        )
      : el("p", { class: "muted" }, "none");
    const refs = span.references.length
      ? el(
          "ul",
          { class: "references" },
          span.references.map((r) => {
            const here = r.traceID === trace.traceID && trace.byID.has(r.spanID);
            const target = here
              ? el("a", { href: "#", class: "ref-link", onclick: (e) => { e.preventDefault(); view.reveal(r.spanID); } }, r.spanID)
              : el("span", null, r.spanID + (r.traceID === trace.traceID ? " (not received)" : ""));
            return el("li", { class: "reference" }, [
              el("span", { class: "ref-type" }, r.refType), " ", JL.bdi(target), " in trace ", JL.bdi(r.traceID),
            ]);
          })
        )
      : el("p", { class: "muted" }, "none");
    const process = el("div", null, [
      el("p", null, ["Service: ", el("strong", null, JL.bdi(span.process.serviceName))]),
      tagTable(span.process.tags || [], "process-tags"),
    ]);
    const parts = [
      el("dl", { class: "facts" }, facts.map(([k, v]) => [el("dt", null, k), el("dd", null, v)])),
      section("Tags", tagTable(span.tags, "span-tags")),
      section("Process", process),
      section("Logs", logs),
      section("References", refs),
    ];
    if (span.warnings.length) {
      parts.push(section("Warnings", el("ul", { class: "warnings" }, span.warnings.map((w) => el("li", null, w)))));
    }
    return el("div", { class: "span-detail", dataset: { spanId: span.spanID } }, parts);
  }

  function ticks(duration) {
    return [0, 0.25, 0.5, 0.75, 1].map((f) => ({ at: f, label: JL.formatDuration(duration * f) }));
  }

  function markers(span) {
    const out = [];
    if (span.error) out.push(el("span", { class: "marker error-marker", title: "error" }, "!"));
    if (span.link === "follows") out.push(el("span", { class: "marker follows-marker", title: LINK_TEXT.follows }, "follows from"));
    if (span.link === "orphan") out.push(el("span", { class: "marker orphan-marker", title: LINK_TEXT.orphan }, "⚠ parent not received"));
    if (span.link === "cycle") out.push(el("span", { class: "marker cycle-marker", title: LINK_TEXT.cycle }, "↻"));
    return out;
  }

  /* Draw ``raw`` (one trace in Jaeger's JSON) into ``container``; returns the view. */
  JL.renderTrace = function (container, raw, options) {
    const trace = JL.prepareTrace(raw);
    for (const s of trace.services) JL.colorFor(s.name);
    const total = Math.max(trace.duration, 1);
    const critical = new Map();
    if (trace.tops.length) {
      for (const seg of JL.criticalPath(trace.tops[0])) {
        if (!critical.has(seg.span)) critical.set(seg.span, []);
        critical.get(seg.span).push(seg);
      }
    }
    const collapsed = new Set();
    const rowsByID = new Map();
    const view = { trace: trace, reveal: null };

    function isHidden(span) {
      for (let p = span.parent; p; p = p.parent) if (collapsed.has(p)) return true;
      return false;
    }

    function refresh() {
      for (const span of trace.rows) {
        const row = rowsByID.get(span);
        const hidden = isHidden(span);
        row.hidden = hidden;
        if (row.detail) row.detail.hidden = hidden;
        if (row.toggle) {
          row.toggle.textContent = collapsed.has(span) ? "▸" : "▾";
          row.toggle.setAttribute("aria-expanded", String(!collapsed.has(span)));
        }
      }
    }

    function toggleDetail(span) {
      const row = rowsByID.get(span);
      if (row.detail) {
        row.detail.remove();
        row.detail = null;
        row.classList.remove("selected");
        return;
      }
      row.detail = detailPanel(trace, span, view);
      row.classList.add("selected");
      row.after(row.detail);
    }

    view.reveal = function (spanID) {
      const span = trace.byID.get(spanID);
      if (!span) return;
      for (let p = span.parent; p; p = p.parent) collapsed.delete(p);
      refresh();
      const row = rowsByID.get(span);
      if (!row.detail) toggleDetail(span);
      row.scrollIntoView({ block: "center" });
    };

    function spanRow(span) {
      const colour = JL.colorFor(span.service);
      const toggle = span.children.length
        ? el("button", {
            class: "toggle", type: "button", title: "collapse or expand the children",
            "aria-expanded": "true",
            onclick: (e) => {
              e.stopPropagation();
              if (collapsed.has(span)) collapsed.delete(span); else collapsed.add(span);
              refresh();
            },
          }, "▾")
        : el("span", { class: "toggle-spacer" });
      const label = el("div", { class: "row-label", style: { paddingLeft: span.depth * 14 + 4 + "px" } }, [
        toggle,
        el("span", { class: "service-swatch", style: { backgroundColor: colour } }),
        el("span", { class: "service-name" }, span.service),
        " ",
        el("span", { class: "operation-name" }, span.operation),
        markers(span),
      ]);
      const bar = el("div", {
        class: "span-bar link-" + span.link + (span.error ? " is-error" : ""),
        title: JL.isolated(span.service) + ": " + JL.isolated(span.operation) + " · " + JL.formatDuration(span.duration),
        style: {
          left: percent((span.start - trace.start) / total),
          width: percent(span.duration / total),
          backgroundColor: colour,
          borderColor: colour,
        },
      }, (critical.get(span) || []).map((seg) =>
        el("div", {
          class: "critical-segment",
          style: {
            left: percent(span.duration ? (seg.start - span.start) / span.duration : 0),
            width: percent(span.duration ? (seg.end - seg.start) / span.duration : 1),
          },
        })
      ));
      const endFraction = (span.end - trace.start) / total;
      const durationLabel = el("span", {
        class: "bar-label" + (endFraction > 0.8 ? " bar-label-left" : ""),
        style: endFraction > 0.8
          ? { right: percent(1 - (span.start - trace.start) / total) }
          : { left: percent(endFraction) },
      }, JL.formatDuration(span.duration));
      const timeline = el("div", { class: "row-timeline" }, [bar, durationLabel]);
      const row = el("div", {
        class: "span-row" + (critical.has(span) ? " critical" : "") + (span.error ? " error" : ""),
        role: "row",
        tabindex: "0",
        dataset: { spanId: span.spanID, depth: String(span.depth), link: span.link, service: span.service },
        onclick: () => toggleDetail(span),
        onkeydown: (e) => { if (e.key === "Enter") toggleDetail(span); },
      }, [label, timeline]);
      row.toggle = span.children.length ? toggle : null;
      row.detail = null;
      rowsByID.set(span, row);
      return row;
    }

    const header = el("div", { class: "trace-header" }, [
      el("div", { class: "trace-title" }, [
        el("h2", null, JL.nameNodes(trace)),
        el("span", { class: "trace-id" }, trace.traceID),
        options && options.source ? el("span", { class: "badge" }, options.source) : null,
      ]),
      el("div", { class: "trace-actions" }, [
        el("button", { type: "button", id: "expand-all", onclick: () => { collapsed.clear(); refresh(); } }, "Expand all"),
        el("button", { type: "button", id: "collapse-all", onclick: () => {
          for (const s of trace.spans) if (s.children.length) collapsed.add(s);
          refresh();
        } }, "Collapse all"),
        el("button", { type: "button", id: "download-json", onclick: () => JL.downloadTrace(raw) }, "Download JSON"),
      ]),
      el("dl", { class: "trace-summary" }, [
        ["Trace start", JL.formatTime(trace.start)],
        ["Duration", JL.formatDuration(trace.duration)],
        ["Services", String(trace.services.length)],
        ["Depth", String(trace.depth)],
        ["Total spans", String(trace.spans.length)],
        ["Errors", String(trace.errors)],
      ].map(([k, v]) => el("div", null, [el("dt", null, k), el("dd", null, v)]))),
      el("ul", { class: "legend" }, [
        trace.services.map((s) =>
          el("li", null, [el("span", { class: "service-swatch", style: { backgroundColor: JL.colorFor(s.name) } }), el("span", null, [JL.bdi(s.name), " (" + s.count + ")"])])
        ),
        el("li", null, [el("span", { class: "legend-critical" }), "critical path"]),
        el("li", null, [el("span", { class: "legend-follows" }), "follows from"]),
        el("li", null, [el("span", { class: "legend-error" }), "error"]),
      ]),
    ]);
    const axis = el("div", { class: "axis-row" }, [
      el("div", { class: "row-label axis-label" }, "Service & operation"),
      el("div", { class: "row-timeline axis" }, ticks(trace.duration).map((t) =>
        el("span", { class: "tick" + (t.at === 1 ? " tick-last" : ""), style: { left: percent(t.at) } }, t.label)
      )),
    ]);
    const rows = el("div", { class: "waterfall", role: "table" }, trace.rows.map(spanRow));
    JL.clear(container);
    container.append(header, axis, rows);
    return view;
  };

  /* Save the trace as the --json file format: {"data": [trace]} (the Jaeger UI opens it). */
  JL.downloadTrace = function (raw) {
    const text = '{"data": [\n' + JSON.stringify(raw) + "\n]}\n";
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const link = el("a", { href: url, download: "trace-" + raw.traceID + ".json" });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  };
})();
