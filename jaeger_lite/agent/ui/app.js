/* jaeger-lite web UI: routing between the search page and the trace view, opening JSON
   files (upload or drag and drop), and the status line. */
"use strict";

(function () {
  const JL = window.JL;
  const $ = (id) => document.getElementById(id);

  JL.currentView = "search";

  JL.status = function (message, isError) {
    const box = $("status");
    box.textContent = message || "";
    box.hidden = !message;
    box.classList.toggle("status-error", Boolean(isError));
  };

  function show(view) {
    JL.currentView = view;
    $("search-view").hidden = view !== "search";
    $("trace-view").hidden = view !== "trace";
  }

  JL.openTrace = function (traceID, source) {
    location.hash = "#/trace/" + encodeURIComponent(traceID) + (source ? "?source=" + source : "");
  };

  async function showTrace(traceID, source) {
    show("trace");
    const container = $("trace-view");
    const fromFile = source === "file" && JL.search.fileTraces && JL.search.fileTraces.get(traceID);
    if (fromFile) {
      JL.status("");
      JL.renderTrace(container, fromFile, { source: "from " + JL.search.fileName });
      return;
    }
    JL.clear(container).append(JL.el("p", { class: "muted" }, "Loading trace " + traceID + "…"));
    try {
      const doc = await JL.fetchJSON("/api/traces/" + encodeURIComponent(traceID));
      JL.status("");
      JL.renderTrace(container, doc.data[0], null);
    } catch (err) {
      JL.clear(container).append(JL.el("p", { class: "error-text" }, "Trace " + traceID + ": " + err.message));
    }
  }

  function route() {
    const hash = location.hash.replace(/^#/, "");
    const [path, query] = [hash.split("?")[0], hash.split("?").slice(1).join("?")];
    const params = new URLSearchParams(query);
    const match = /^\/trace\/([^/]+)$/.exec(path);
    if (match) {
      let traceID = match[1];
      try {
        traceID = decodeURIComponent(traceID);
      } catch (_) {
        // A malformed escape (a link cut short): ask for it as it is, the agent says why not.
      }
      showTrace(traceID, params.get("source"));
      return;
    }
    show("search");
    if (JL.search.fileTraces && params.get("source") === "file") {
      JL.search.refresh();
      return;
    }
    JL.search.run(params);
  }

  async function openFile(file) {
    let traces;
    try {
      traces = JL.tracesFromDocument(JSON.parse(await file.text()));
    } catch (err) {
      JL.status("Cannot open " + file.name + ": " + err.message, true);
      return;
    }
    JL.status("");
    JL.search.showFile(file.name, traces);
    if (traces.length === 1) JL.openTrace(traces[0].traceID, "file");
    else location.hash = "#/search?source=file";
  }

  function init() {
    JL.search.init();
    $("file-input").addEventListener("change", (e) => {
      if (e.target.files.length) openFile(e.target.files[0]);
      e.target.value = "";
    });
    document.addEventListener("dragover", (e) => {
      e.preventDefault();
      document.body.classList.add("dragging");
    });
    document.addEventListener("dragleave", (e) => {
      if (!e.relatedTarget) document.body.classList.remove("dragging");
    });
    document.addEventListener("drop", (e) => {
      e.preventDefault();
      document.body.classList.remove("dragging");
      if (e.dataTransfer && e.dataTransfer.files.length) openFile(e.dataTransfer.files[0]);
    });
    window.addEventListener("hashchange", route);
    // /trace/<id> (as Jaeger's UI links) opens that trace too.
    const direct = /^\/trace\/([^/]+)$/.exec(location.pathname);
    if (direct && !location.hash) {
      history.replaceState(null, "", "/#/trace/" + direct[1]);
    }
    route();
  }

  JL.ready = false;
  document.addEventListener("DOMContentLoaded", () => {
    init();
    JL.ready = true;
    document.documentElement.dataset.ready = "true";
  });
})();
