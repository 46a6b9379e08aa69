// The query UI: YASGUI (served from /static/vendor/, installed from npm) on this endpoint, with the
// project's prefixes and example queries. Autocompleters that call remote services are disabled.
// Results open in a "Simple" view with labels (the dataset's own labels, from /api/labels); the
// raw table stays one click away. A query in Wikidata's vocabulary reads the Wikibase view by itself
// (cowkg/wdqs.py, as on WDQS), and the page says so. Errors show their message and hint.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("cowkg-config").textContent);
  const prefixLines = Object.entries(cfg.prefixes).map(function (kv) { return "PREFIX " + kv[0] + ": <" + kv[1] + ">"; });
  const idSpace = cfg.prefixes.cowr;
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December"];
  const wikidataVocab = new RegExp(cfg.wikidataVocab, "i");

  function pageOf(iri) {
    if (iri.startsWith(idSpace) && /^[A-Za-z0-9][A-Za-z0-9._~-]*$/.test(iri.slice(idSpace.length))) {
      return "/page/" + iri.slice(idSpace.length);
    }
    return null;
  }
  function curie(iri) {
    for (const [p, ns] of Object.entries(cfg.prefixes)) {
      if (iri.startsWith(ns) && /^[A-Za-z0-9_-][\w.-]*$/.test(iri.slice(ns.length))) return p + ":" + iri.slice(ns.length);
    }
    return iri;
  }
  function humanDate(value, datatype) {
    const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(value);
    if (!m || ![XSD + "date", XSD + "gYearMonth", XSD + "gYear"].includes(datatype)) return null;
    if (!m[2]) return m[1];
    const month = MONTHS[Number(m[2]) - 1];
    return m[3] ? Number(m[3]) + " " + month + " " + m[1] : month + " " + m[1];
  }
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The "Simple" results view: one row per solution, IRIs as their labels (linked to their pages),
  // literals as values (dates as people write them), language and datatype in small print.
  class SimpleTable {
    constructor(yasr) { this.yasr = yasr; this.priority = 20; this.label = "Simple"; }
    canHandleResults() {
      const r = this.yasr.results;
      return !!r && typeof r.getVariables === "function" && !!r.getVariables() && r.getVariables().length > 0;
    }
    getIcon() { return el("span", { "aria-hidden": "true" }, "≡"); }
    draw() {
      const vars = this.yasr.results.getVariables();
      const bindings = this.yasr.results.getBindings() || [];
      const wrap = el("div", { class: "simple-results" });
      const table = el("table");
      table.append(el("caption", { class: "sr" }, "Query results with labels"));
      const head = el("tr");
      for (const v of vars) head.append(el("th", { scope: "col" }, v));
      const thead = el("thead");
      thead.append(head);
      table.append(thead);
      const body = el("tbody");
      const iriCells = [];
      for (const b of bindings) {
        const tr = el("tr");
        for (const v of vars) {
          const td = el("td");
          const t = b[v];
          if (t && t.type === "uri") {
            const page = pageOf(t.value);
            const a = el("a", { href: page || t.value, title: t.value, "data-iri": t.value }, curie(t.value));
            if (!page) a.setAttribute("rel", "nofollow noopener");
            if (!/^https?:/i.test(t.value)) td.append(document.createTextNode(t.value)); else td.append(a);
            iriCells.push(a);
          } else if (t && (t.type === "literal" || t.type === "typed-literal")) {
            const human = humanDate(t.value, t.datatype);
            td.append(document.createTextNode(human || t.value));
            if (t["xml:lang"]) td.append(el("span", { class: "lang" }, " @" + t["xml:lang"]));
            else if (t.datatype && !human && ![XSD + "string", XSD + "integer"].includes(t.datatype)) {
              td.append(el("span", { class: "datatype" }, curie(t.datatype)));
            }
          } else if (t && t.type === "bnode") {
            td.append(document.createTextNode("_:" + t.value));
          }
          tr.append(td);
        }
        body.append(tr);
      }
      table.append(body);
      wrap.append(table);
      this.yasr.resultsEl.appendChild(wrap);
      const iris = Array.from(new Set(iriCells.map(function (a) { return a.dataset.iri; })));
      if (!iris.length) return;
      fetch(cfg.labels, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ iris: iris.slice(0, 1000) }) })
        .then(function (r) { return r.ok ? r.json() : { labels: {} }; })
        .then(function (data) {
          for (const a of iriCells) {
            const found = data.labels[a.dataset.iri];
            if (found) { a.textContent = found.label; a.href = found.page; a.classList.add("labelled"); }
          }
          wrap.dataset.labelled = "true";
        })
        .catch(function () { /* the CURIEs stay */ });
    }
  }
  Yasgui.Yasr.registerPlugin("simple", SimpleTable);

  // Errors from this endpoint are JSON {status, error, message, hint}: show them as sentences.
  Yasgui.Yasr.defaults.errorRenderers = [async function (error) {
    let body = null;
    try { body = JSON.parse(error.text || ""); } catch (e) { return undefined; }
    if (!body || !body.message) return undefined;
    const box = el("div", { class: "query-error", role: "alert" });
    box.append(el("p", {}, "The endpoint refused the query (" + (body.status || "") + " " + (body.error || "") + "): " + body.message));
    if (body.hint) box.append(el("p", { class: "hint" }, "Hint: " + body.hint));
    if (body.location) box.append(el("p", {}, "At line " + body.location.line + ", column " + body.location.column + "."));
    return box;
  }];

  const starterExample = cfg.examples.find(function (e) { return e.name === cfg.starter; });
  const starter = cfg.query || (starterExample ? starterExample.query :
    "SELECT ?s ?label WHERE {\n  ?s rdfs:label ?label\n} LIMIT 20");
  Yasgui.Yasqe.defaults.autocompleters = ["variables"];
  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: cfg.endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: cfg.endpoint }]; } },
    persistenceId: null,
    yasqe: { value: starter, autocompleters: ["variables"] },
    yasr: { pluginOrder: ["simple", "table", "response"], defaultPlugin: "simple" },
  });
  const tab = yasgui.getTab();
  const yasqe = tab.getYasqe();
  // Keyboard: Tab and Shift-Tab leave the editor (CodeMirror would indent: a keyboard trap); Ctrl-Enter runs.
  yasqe.setOption("extraKeys", Object.assign({}, yasqe.getOption("extraKeys"), { Tab: false, "Shift-Tab": false }));
  // Names for the widgets YASGUI leaves unnamed; the single query tab needs no tab list.
  function nameWidgets() {
    const root = document.getElementById("yasgui");
    root.querySelectorAll("textarea").forEach(function (t) { t.setAttribute("aria-label", "SPARQL query"); });
    root.querySelectorAll("input.autocomplete, .controlbar input[type=text]").forEach(function (i) {
      i.setAttribute("aria-label", "SPARQL endpoint");
    });
    // A long query scrolls: its scroll area is a stop of its own, scrolled with the arrow keys.
    root.querySelectorAll(".CodeMirror-scroll").forEach(function (el) {
      el.setAttribute("tabindex", "0");
      el.setAttribute("role", "region");
      el.setAttribute("aria-label", "Query text, scrolled with the arrow keys");
    });
  }
  nameWidgets();
  // The server predeclares the project prefixes; declaring the ones a query uses keeps the
  // editor's syntax check quiet and the query portable to other endpoints.
  function declareUsed() {
    const text = yasqe.getValue();
    const declared = yasqe.getPrefixesFromQuery();
    const used = {};
    for (const name of Object.keys(cfg.prefixes)) {
      if (!(name in declared) && new RegExp("(^|[^\\w:?$])" + name + ":").test(text)) used[name] = cfg.prefixes[name];
    }
    if (Object.keys(used).length) yasqe.addPrefixes(used);
  }

  // Inference per request: the checkbox switches the endpoint between ?infer=false and ?infer=true.
  const infer = document.getElementById("infer");
  const note = document.getElementById("infer-note");
  function setInfer() {
    yasgui.getTab().setEndpoint(cfg.endpoint + "?infer=" + (infer.checked ? "true" : "false"));
  }
  function bodyOf(text) {
    return text.split("\n").filter(function (l) { return !/^\s*(#|PREFIX\b)/i.test(l); }).join("\n");
  }
  // A query in Wikidata's vocabulary (wdt:, p:, wd: ...) reads the Wikibase view whatever the checkbox says.
  function checkVocabulary() {
    const wikidata = wikidataVocab.test(bodyOf(yasqe.getValue()));
    if (wikidata) {
      note.textContent = "This query uses Wikidata's vocabulary (wdt:, p:, wd: …): cowkg answers it from the " +
        "Wikibase view (statements, qualifiers, references, labels) as the Wikidata Query Service would; " +
        "inferred triples are not needed.";
      note.hidden = false;
    } else {
      note.hidden = true;
    }
  }
  if (infer) {
    infer.addEventListener("change", function () { note.hidden = true; setInfer(); });
    setInfer();
  }

  function load(query, run) {
    yasqe.setValue(query);
    declareUsed();
    checkVocabulary();
    // Keep the editor and the results in view: the example list may be long.
    document.getElementById("query-main").scrollIntoView({ block: "start" });
    yasqe.focus();
    if (run) yasqe.query();
  }
  declareUsed();
  if (cfg.query) load(cfg.query, false);
  else if (document.activeElement && document.getElementById("yasgui").contains(document.activeElement)) {
    document.activeElement.blur();  // the page opens with the focus at its start, not inside the editor
  }
  checkVocabulary();
  yasqe.on("change", function () { checkVocabulary(); });
  document.querySelectorAll("button.example").forEach(function (button) {
    button.addEventListener("click", function () {
      const ex = cfg.examples.find(function (e) { return e.name === button.dataset.name; });
      if (ex) load(ex.query, ex.group !== "federated");
    });
  });
  const inline = {
    find: "SELECT ?thing ?name WHERE {\n  ?thing rdfs:label ?name .\n  FILTER (CONTAINS(?name, \"Macron\"))\n}",
    follow: "SELECT ?who WHERE {\n  cowr:meeting-11 cow:hostOrChair ?who .\n}",
    count: "SELECT ?who (COUNT(?meeting) AS ?meetings) WHERE {\n  ?meeting cow:hostOrChair ?who .\n}\nGROUP BY ?who\nORDER BY DESC(?meetings)",
  };
  document.querySelectorAll("button.example-inline").forEach(function (button) {
    button.addEventListener("click", function () { load(inline[button.dataset.query], true); });
  });
  // Dataset IRIs in the raw table open their page on this server, not the public w3id.org redirect.
  document.getElementById("yasgui").addEventListener("click", function (event) {
    const link = event.target.closest("a[href]");
    if (link && link.href.startsWith(idSpace) && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      event.stopPropagation();
      window.location.href = "/page/" + link.href.slice(idSpace.length);
    }
  }, true);
  window.cowkgYasgui = yasgui;
  window.cowkgPrefixLines = prefixLines;
})();
