/* jaeger-lite web UI: shared helpers.
   DOM building that only ever sets text (never HTML), formats, service colours, and the
   model of a trace in Jaeger's JSON: its span tree (the agent's tree.py rules) and its
   critical path. Plain browser JavaScript: no build step, no dependency, works offline. */
"use strict";

const JL = (window.JL = window.JL || {});

/* -- DOM ------------------------------------------------------------------------------ */

function appendChildren(node, children) {
  if (children === undefined || children === null || children === false) return;
  if (Array.isArray(children)) {
    for (const child of children) appendChildren(node, child);
  } else if (children instanceof Node) {
    node.appendChild(children);
  } else {
    node.appendChild(document.createTextNode(String(children)));
  }
}

function setAttributes(node, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.setAttribute("class", value);
    else if (key === "text") node.textContent = String(value);
    else if (key === "style") Object.assign(node.style, value); // CSSOM: allowed by the CSP
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
}

/* An element; strings among the children become text nodes, so values are never parsed. */
JL.el = function (tag, attrs, children) {
  const node = document.createElement(tag);
  setAttributes(node, attrs);
  appendChildren(node, children);
  return node;
};

JL.svg = function (tag, attrs, children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  setAttributes(node, attrs);
  appendChildren(node, children);
  return node;
};

/* A value from a span inside other text: a <bdi>, so a right-to-left override in it (U+202E
   and friends) cannot reorder the text around it, e.g. show a trace id reversed. */
JL.bdi = function (value) {
  return JL.el("bdi", null, value);
};

/* The same for a tooltip, which holds plain text: first-strong isolate ... pop isolate. */
JL.isolated = function (value) {
  return "\u2068" + value + "\u2069";
};

/* A trace's name, "service: operation", with each part isolated. */
JL.nameNodes = function (trace) {
  if (!trace.root) return trace.name;
  return [JL.bdi(trace.root.service), ": ", JL.bdi(trace.root.operation)];
};

JL.clear = function (node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
};

/* -- formats -------------------------------------------------------------------------- */

/* As the terminal output: 850µs, 1.23ms, 12.3ms, 1.25s, 2m03s, 3h05m. */
JL.formatDuration = function (us) {
  us = Math.max(0, Math.round(us));
  if (us < 1000) return us + "µs";
  if (us < 10000) return (us / 1000).toFixed(2) + "ms";
  if (us < 1000000) return (us / 1000).toFixed(1) + "ms";
  if (us < 60000000) return (us / 1000000).toFixed(2) + "s";
  const seconds = Math.floor(us / 1000000);
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes + "m" + String(seconds % 60).padStart(2, "0") + "s";
  return Math.floor(minutes / 60) + "h" + String(minutes % 60).padStart(2, "0") + "m";
};

JL.formatTime = function (us) {
  const d = new Date(us / 1000);
  const pad = (n, w) => String(n).padStart(w || 2, "0");
  return (
    d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
    pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." +
    pad(d.getMilliseconds(), 3)
  );
};

JL.formatAgo = function (us) {
  const seconds = Math.round((Date.now() * 1000 - us) / 1000000);
  if (seconds < 5) return "just now";
  if (seconds < 90) return seconds + " seconds ago";
  if (seconds < 5400) return Math.round(seconds / 60) + " minutes ago";
  if (seconds < 129600) return Math.round(seconds / 3600) + " hours ago";
  return Math.round(seconds / 86400) + " days ago";
};

JL.plural = function (n, word, words) {
  return n + " " + (n === 1 ? word : words || word + "s");
};

JL.valueText = function (value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
};

/* -- colours: one per service, the same on every page of a session ------------------------- */

const PALETTE = [
  "#3b7dd8", "#e08a2c", "#3f9e5a", "#9b59b6", "#1fa3a3", "#8c6d3f",
  "#d4589a", "#6574d9", "#7aa33a", "#c49000", "#5f6b7a", "#1f6f8b",
];
const colours = new Map();

JL.colorFor = function (service) {
  if (!colours.has(service)) colours.set(service, PALETTE[colours.size % PALETTE.length]);
  return colours.get(service);
};

/* -- the model of a trace ---------------------------------------------------------------- */

function isError(tags) {
  for (const tag of tags) {
    if (tag.key === "error" && (tag.value === true || String(tag.value).toLowerCase() === "true")) {
      return true;
    }
    if (tag.key === "otel.status_code" && tag.value === "ERROR") return true;
  }
  return false;
}

/* Parent and link kind from the references, as the agent's tree.py reads a span whose
   parentSpanId became a leading CHILD_OF reference: first CHILD_OF, else FOLLOWS_FROM. */
function parentOf(span) {
  const same = (span.references || []).filter((r) => r.traceID === span.traceID && r.spanID);
  for (const [kind, link] of [["CHILD_OF", "child"], ["FOLLOWS_FROM", "follows"]]) {
    const ref = same.find((r) => r.refType === kind);
    if (ref) return [ref.spanID, link];
  }
  return ["", "root"];
}

function byStart(a, b) {
  if (a.start !== b.start) return a.start - b.start;
  return a.spanID < b.spanID ? -1 : a.spanID > b.spanID ? 1 : 0;
}

/* Set depths below the given nodes (iteratively: traces can be deep); count them. */
function walkDepths(tops) {
  let count = 0;
  const stack = tops.map((node) => [node, 0]);
  while (stack.length) {
    const [node, depth] = stack.pop();
    node.depth = depth;
    count += 1;
    node.children.sort(byStart);
    for (const child of node.children) stack.push([child, depth + 1]);
  }
  return count;
}

/* A trace in Jaeger's JSON made ready to draw: spans with service, times, parent, children,
   depth and error flag; the rows in tree order; totals. Every span appears exactly once. */
JL.prepareTrace = function (raw) {
  const processes = raw.processes || {};
  const spans = (raw.spans || []).map((s) => {
    const process = processes[s.processID] || s.process || { serviceName: "?", tags: [] };
    const [parentID, link] = parentOf(s);
    return {
      raw: s,
      spanID: s.spanID,
      traceID: s.traceID,
      operation: s.operationName,
      service: process.serviceName,
      process: process,
      start: Number(s.startTime) || 0,
      duration: Math.max(0, Number(s.duration) || 0),
      tags: s.tags || [],
      logs: s.logs || [],
      references: s.references || [],
      warnings: s.warnings || [],
      parentID: parentID,
      link: link,
      parent: null,
      children: [],
      depth: -1,
      error: isError(s.tags || []),
    };
  });
  const byID = new Map();
  for (const span of spans) {
    span.end = span.start + span.duration;
    if (!byID.has(span.spanID)) byID.set(span.spanID, span);
  }
  const tops = [];
  for (const span of spans) {
    const parent = span.parentID ? byID.get(span.parentID) : undefined;
    if (!parent || parent === span) {
      if (span.link !== "root") span.link = "orphan";
      tops.push(span);
    } else {
      span.parent = parent;
      parent.children.push(span);
    }
  }
  let placed = walkDepths(tops);
  if (placed < spans.length) {
    // Spans not reached sit on a reference cycle: cut each at its earliest span.
    for (const span of spans.slice().sort(byStart)) {
      if (span.depth < 0 && span.parent) {
        span.parent.children.splice(span.parent.children.indexOf(span), 1);
        span.parent = null;
        span.link = "cycle";
        tops.push(span);
        placed += walkDepths([span]);
      }
    }
  }
  tops.sort(byStart);
  const rows = [];
  const stack = tops.slice().reverse();
  while (stack.length) {
    const span = stack.pop();
    rows.push(span);
    for (let i = span.children.length - 1; i >= 0; i--) stack.push(span.children[i]);
  }
  const start = spans.length ? Math.min(...spans.map((s) => s.start)) : 0;
  const end = spans.length ? Math.max(...spans.map((s) => s.end)) : 0;
  const counts = new Map();
  for (const span of spans) counts.set(span.service, (counts.get(span.service) || 0) + 1);
  const root = tops.find((s) => s.link === "root") || tops[0];
  return {
    raw: raw,
    traceID: raw.traceID,
    spans: spans,
    rows: rows,
    tops: tops,
    byID: byID,
    start: start,
    end: end,
    duration: end - start,
    // Most spans first, then by name: not the order the spans happened to arrive in
    // (each service's reporter sends on its own schedule).
    services: [...counts.entries()]
      .map(([name, count]) => ({ name: name, count: count }))
      .sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    errors: spans.filter((s) => s.error).length,
    depth: spans.length ? Math.max(...spans.map((s) => s.depth)) + 1 : 0,
    root: root,
    name: root ? root.service + ": " + root.operation : "(no spans)",
  };
};

/* The critical path from a span: the parts of it and its descendants that the span's end
   waited for. Walking back from the end, the last child to finish before that point is on
   the path up to its end, then recursively; the parent owns the gaps. Children that start
   after the point (fire-and-forget work, FollowsFrom jobs) are not on it. Returns segments
   {span, start, end}. */
JL.criticalPath = function (top) {
  const segments = [];
  const stack = [[top, top.end]];
  while (stack.length) {
    const [span, until] = stack.pop();
    let t = Math.min(span.end, until);
    const children = span.children.slice().sort((a, b) => b.end - a.end || b.start - a.start);
    for (const child of children) {
      if (t <= span.start) break;
      if (child.start >= t) continue;
      const childEnd = Math.min(child.end, t);
      if (childEnd < t) segments.push({ span: span, start: childEnd, end: t });
      stack.push([child, childEnd]);
      t = Math.max(child.start, span.start);
    }
    if (t > span.start) segments.push({ span: span, start: span.start, end: t });
  }
  return segments;
};

/* Traces from a JSON document: the query API's or --json's {"data": [...]}, a list of
   traces, or one trace. Throws an Error saying what is wrong. */
JL.tracesFromDocument = function (doc) {
  let traces = doc;
  if (doc && !Array.isArray(doc) && Array.isArray(doc.data)) traces = doc.data;
  else if (doc && !Array.isArray(doc) && Array.isArray(doc.spans)) traces = [doc];
  if (!Array.isArray(traces)) throw new Error('expected {"data": [traces]} or a trace');
  for (const trace of traces) {
    if (!trace || !Array.isArray(trace.spans) || typeof trace.traceID !== "string") {
      throw new Error("a trace without traceID or spans");
    }
    for (const span of trace.spans) {
      if (!span || typeof span.spanID !== "string" || typeof span.traceID !== "string") {
        throw new Error("trace " + trace.traceID + " has a span without traceID or spanID");
      }
    }
  }
  return traces;
};

JL.fetchJSON = async function (url, options) {
  const response = await fetch(url, options);
  let doc = null;
  try {
    doc = await response.json();
  } catch (_) {
    throw new Error(url + ": HTTP " + response.status);
  }
  if (!response.ok || (doc.errors && doc.errors.length && doc.data === null)) {
    const message = doc.errors && doc.errors.length ? doc.errors[0].msg : "HTTP " + response.status;
    throw new Error(message);
  }
  return doc;
};
