// The entity graph view: queries/views/entity-graph.rq (the links to and from one entity) drawn with
// Cytoscape.js; clicking a node (or its Expand button in the table) adds that node's links.
// Colours stand for the nodes' classes; the table lists every link drawn.
(function () {
  "use strict";
  const V = window.cowkgViews;
  const COLOURS = { Coalition: "#0b3d91", MultinationalForce: "#1b4fb8", State: "#2a9d8f", Person: "#e76f51",
    InternationalOrganisation: "#5fa8d3", GovernmentBody: "#4d908e", MediaOutlet: "#b08968", ResearchOrganisation: "#8d99ae",
    CoalitionMeeting: "#f4a261", LeadersSummit: "#f4a261", MinisterialMeeting: "#f6bd60", Event: "#e9c46a",
    ExternalMeeting: "#d4a373", MilitaryMeeting: "#cdb4db", DirectorsMeeting: "#ffc8dd", Statement: "#9b5de5",
    Characterisation: "#c77dff", Report: "#7b2cbf", PeacePlan: "#ef476f", OfficialStatement: "#d81159",
    Publication: "#ff8fab", Agreement: "#ff006e", Declaration: "#c9184a", Attendance: "#90be6d", NonAttendance: "#bc4749",
    CountObservation: "#43aa8b", StatusObservation: "#577590", Pledge: "#f9844a", City: "#277da1", Venue: "#f8961e",
    Region: "#4d908e", Headquarters: "#6a4c93", Role: "#a3b18a", SourcedRecord: "#adb5bd", LostContent: "#6c757d",
    Ambiguity: "#ced4da", Concept: "#bde0fe" };
  const EXTRA = ["#264653", "#e63946", "#457b9d", "#8ac926", "#ff924c", "#6a994e", "#bc6c25", "#3a86ff"];
  const cfg = V.config;
  const nodes = new Map();
  const edges = new Map();
  const expanded = new Set();
  let cy;

  function colour(cls) {
    if (COLOURS[cls]) return COLOURS[cls];
    let h = 0;
    for (const ch of cls || "") h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    return EXTRA[h % EXTRA.length];
  }

  function short(label) { return label.length > 30 ? label.slice(0, 28) + "…" : label; }

  function addNode(iri, label, cls, depth) {
    const known = nodes.get(iri);
    if (known) { known.depth = Math.min(known.depth, depth); return null; }
    const node = { iri: iri, label: label || V.localName(iri), cls: V.localName(cls) || "other", depth: depth };
    nodes.set(iri, node);
    return { group: "nodes", data: { id: iri, label: short(node.label), full: node.label, cls: node.cls, colour: colour(node.cls) } };
  }

  function merge(rows, centre) {
    const depth = (nodes.get(centre) || { depth: 0 }).depth + 1;
    const added = [];
    for (const r of rows) {
      const s = addNode(r.s, r.sLabel, r.sClass, r.s === centre ? depth - 1 : depth);
      const o = addNode(r.o, r.oLabel, r.oClass, r.o === centre ? depth - 1 : depth);
      if (s) added.push(s);
      if (o) added.push(o);
      const key = r.s + " " + r.p + " " + r.o;
      if (!edges.has(key)) {
        edges.set(key, { s: r.s, p: r.p, o: r.o, label: r.pLabel });
        added.push({ group: "edges", data: { id: key, source: r.s, target: r.o, label: r.pLabel } });
      }
    }
    return added;
  }

  async function expand(iri, first) {
    if (expanded.has(iri)) { showDetails(iri); return; }
    V.status("Loading the links of " + ((nodes.get(iri) || {}).label || iri) + "…");
    const res = await V.fetchQuery("entity-graph", { iri: iri });
    expanded.add(iri);
    if (!nodes.has(iri)) {
      const r0 = res.rows[0] || {};
      addNode(iri, r0.s === iri ? r0.sLabel : r0.oLabel, r0.s === iri ? r0.sClass : r0.oClass, 0);
    }
    const added = merge(res.rows, iri);
    if (first) {
      const root = nodes.get(iri);
      if (!cy.getElementById(iri).length) added.unshift({ group: "nodes", data: { id: iri, label: short(root.label), full: root.label, cls: root.cls, colour: colour(root.cls) } });
    }
    cy.add(added);
    cy.getElementById(iri).addClass("expanded");
    layout();
    renderTable();
    renderLegend();
    showDetails(iri);
    V.status(nodes.size + " nodes and " + edges.size + " links" + (res.truncated ? " (the result was cut: " + res.truncated + ")" : "") +
      "; " + expanded.size + " expanded.");
    return res;
  }

  // Concentric rings: the first entity in the middle, then its neighbours, then theirs. A ring with
  // many nodes is split into several, outer rings holding more; nodes are grouped by class so
  // colours cluster.
  function layout() {
    const all = Array.from(nodes.values());
    const max = Math.max.apply(null, all.map(function (n) { return n.depth; }));
    const value = new Map();
    for (let d = 0; d <= max; d++) {
      const ring = all.filter(function (n) { return n.depth === d; })
        .sort(function (a, b) { return a.cls.localeCompare(b.cls) || a.label.localeCompare(b.label); });
      let sub = 0, start = 0, size = 24;
      ring.forEach(function (n, i) {
        if (i - start >= size) { sub += 1; start = i; size += 14; }
        // The fraction orders nodes along their ring (by class) without moving them to another ring.
        value.set(n.iri, (max - d) * 100 + (50 - sub) + 0.9 * (1 - i / ring.length));
      });
    }
    cy.layout({ name: "concentric", animate: false, fit: true, padding: 20, minNodeSpacing: 8, startAngle: 0,
      concentric: function (n) { return value.get(n.id()) || 0; },
      levelWidth: function () { return 1; } }).run();
    if (cy.zoom() > 1.6) { cy.zoom(1.6); cy.center(); }
  }

  function entityCell(iri) {
    const n = nodes.get(iri);
    const cellChildren = [V.link(iri, n ? n.label : iri)];
    if (!expanded.has(iri)) {
      const b = V.el("button", { type: "button", class: "small", text: "Expand", "aria-label": "Expand " + (n ? n.label : iri) });
      b.addEventListener("click", function () { expand(iri).catch(V.fail); });
      cellChildren.push(" ", b);
    }
    return V.el("td", {}, cellChildren);
  }

  function renderTable() {
    const tbody = document.querySelector("#links-table tbody");
    tbody.replaceChildren();
    const list = Array.from(edges.values()).sort(function (a, b) {
      return a.label.localeCompare(b.label) || a.s.localeCompare(b.s) || a.o.localeCompare(b.o);
    });
    for (const e of list) {
      tbody.append(V.el("tr", {}, [entityCell(e.s), V.el("td", { title: e.p, text: e.label }), entityCell(e.o)]));
    }
  }

  function renderLegend() {
    const counts = new Map();
    for (const n of nodes.values()) counts.set(n.cls, (counts.get(n.cls) || 0) + 1);
    const ul = document.getElementById("graph-legend");
    ul.replaceChildren();
    Array.from(counts.entries()).sort(function (a, b) { return b[1] - a[1] || a[0].localeCompare(b[0]); }).forEach(function ([cls, n]) {
      ul.append(V.el("li", {}, [V.el("i", { style: "background:" + colour(cls) }), cls + " (" + n + ")"]));
    });
  }

  function showDetails(iri) {
    const n = nodes.get(iri);
    if (!n) return;
    const panel = document.getElementById("details");
    const degree = Array.from(edges.values()).filter(function (e) { return e.s === iri || e.o === iri; }).length;
    const actions = [V.el("a", { id: "entity-page-link", href: V.pageUrl(iri), text: "Open the entity page" }), " · ",
      V.el("a", { href: "/graph?iri=" + encodeURIComponent(iri), text: "Centre the graph here" })];
    panel.replaceChildren(V.el("h2", { text: n.label }), V.el("dl", {}, [
      V.el("dt", { text: "Class" }), V.el("dd", {}, [V.el("i", { class: "dot", style: "background:" + colour(n.cls) }), n.cls]),
      V.el("dt", { text: "IRI" }), V.el("dd", {}, [V.el("code", { text: iri })]),
      V.el("dt", { text: "Links" }), V.el("dd", { text: degree + " drawn" + (expanded.has(iri) ? " (expanded)" : " (not expanded yet)") }),
    ]), V.el("p", {}, actions));
  }

  function exportSvg() {
    const ext = cy.elements().boundingBox();
    const pad = 20, w = Math.ceil(ext.w + 2 * pad), h = Math.ceil(ext.h + 2 * pad) + 24;
    const svg = document.createElementNS(V.SVGNS, "svg");
    const add = function (parent, tag, attrs, text) {
      const e = document.createElementNS(V.SVGNS, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      if (text) e.textContent = text;
      parent.append(e);
      return e;
    };
    svg.setAttribute("width", w);
    svg.setAttribute("height", h);
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.setAttribute("font-family", "system-ui, sans-serif");
    add(svg, "rect", { width: w, height: h, fill: "#fff" });
    add(svg, "text", { x: 4, y: 16, "font-size": 13, "font-weight": 600 }, "cowkg entity graph: " + document.getElementById("focus-label").textContent);
    const g = add(svg, "g", { transform: "translate(" + (pad - ext.x1) + "," + (pad + 24 - ext.y1) + ")" });
    cy.edges().forEach(function (e) {
      const a = e.source().position(), b = e.target().position();
      add(g, "line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: "#9aa6bd", "stroke-width": 1 });
    });
    cy.nodes().forEach(function (n) {
      const p = n.position();
      const c = add(g, "circle", { cx: p.x, cy: p.y, r: n.width() / 2, fill: n.data("colour"), stroke: "#fff" });
      add(c, "title", {}, n.data("full"));
      add(g, "text", { x: p.x, y: p.y + n.height() / 2 + 10, "font-size": 8, "text-anchor": "middle", fill: "#1d2330" }, n.data("label"));
    });
    return svg;
  }

  function pngBlob() {
    // cytoscape hands the PNG over as a Blob: fetching its data: URL is blocked by connect-src 'self'.
    return cy.png({ output: "blob-promise", full: true, scale: 2, bg: "#ffffff" });
  }

  cy = cytoscape({
    container: document.getElementById("cy"),
    minZoom: 0.05,
    maxZoom: 6,
    style: [
      { selector: "node", style: { "background-color": "data(colour)", label: "data(label)", "font-size": 8, width: 14, height: 14,
        "text-valign": "bottom", "text-margin-y": 2, color: "#1d2330", "text-outline-color": "#fff", "text-outline-width": 1.5,
        "min-zoomed-font-size": 5 } },
      { selector: "node.expanded", style: { width: 22, height: 22, "border-width": 3, "border-color": "#0b3d91", "font-weight": "bold", "font-size": 10 } },
      { selector: "node:selected", style: { "border-width": 3, "border-color": "#f0a500" } },
      { selector: "edge", style: { width: 1, "line-color": "#b5bfd0", "target-arrow-color": "#b5bfd0", "target-arrow-shape": "triangle",
        "arrow-scale": 0.6, "curve-style": "straight", label: "data(label)", "font-size": 6, color: "#667", "text-rotation": "autorotate",
        "min-zoomed-font-size": 9 } },
    ],
  });
  cy.on("mouseover", "node", function (evt) { cy.container().title = evt.target.data("full"); });
  cy.on("tap", "node", function (evt) {
    const iri = evt.target.id();
    showDetails(iri);
    if (!expanded.has(iri)) expand(iri).catch(V.fail);
  });

  V.downloads(exportSvg, "cowkg-graph", pngBlob);
  expand(cfg.iri, true).then(function () {
    const root = nodes.get(cfg.iri);
    document.getElementById("focus-label").textContent = root ? root.label : cfg.iri;
    document.title = "Graph: " + (root ? root.label : cfg.iri) + " · cowkg";
    V.ready({ nodes: cy.nodes().length, edges: cy.edges().length });
  }).catch(V.fail);
  window.cowkgGraph = { cy: function () { return cy; }, expand: expand };
})();
