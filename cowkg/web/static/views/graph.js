// The entity graph view: queries/views/entity-graph.rq (the links to and from one entity) drawn with
// Cytoscape.js and laid out by fCoSE (cytoscape-fcose, a force-directed layout that counts each
// node's label in its size, so labels do not overlap); clicking a node (or its Expand button in the
// table) adds that node's links. Colours stand for the nodes' classes; the class boxes show or hide a
// class. A busy entity (the coalition has 126 neighbours) opens on a readable subset: a few nodes
// per class, the rest behind a "+ N more" node per class that opens it. The table lists every link.
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
  const hiddenClasses = new Set();
  const folded = new Map(); // class → the IRIs kept behind its "+ more" node
  const DEFAULT_MAX = 36;   // nodes drawn at first around a busy entity
  // Records about an entity (infobox entries, statements, counts, lost content, ...) start folded
  // around a busy entity; the entities themselves (states, people, places, meetings) show first.
  const RECORD_CLASSES = new Set(["InfoboxEntry", "SourcedRecord", "LostContent", "Ambiguity", "Concept", "CountObservation",
    "StatusObservation", "Characterisation", "Statement", "Report", "AgendaItem", "Dataset", "DerivedRecord", "Excerpt",
    "Citation", "Role", "Attendance", "NonAttendance", "MandateItem", "Pledge"]);
  let cy;
  if (window.cytoscapeFcose) cytoscape.use(window.cytoscapeFcose);

  function colour(cls) {
    if (COLOURS[cls]) return COLOURS[cls];
    let h = 0;
    for (const ch of cls || "") h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    return EXTRA[h % EXTRA.length];
  }

  function short(label) { return label.length > 44 ? label.slice(0, 42) + "…" : label; }

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
    if (first) foldBusy(iri);
    else release(res.rows);
    applyVisibility();
    layout();
    renderTable();
    renderLegend();
    showDetails(iri);
    report(res);
    return res;
  }

  function report(res) {
    const shown = cy.nodes(":visible").not(".more").length;
    V.status(nodes.size + " nodes and " + edges.size + " links" + (res && res.truncated ? " (the result was cut: " + res.truncated + ")" : "") +
      "; " + shown + " nodes shown, " + expanded.size + " expanded" +
      (folded.size ? "; the rest behind the “+ more” nodes" : "") + (hiddenClasses.size ? "; some classes hidden" : "") + ".");
  }

  // Around a busy entity, keep the nodes most linked to it in each class (at least three per class)
  // and put the rest of each class behind a "+ N more <class>" node.
  function foldBusy(centre) {
    const neighbours = Array.from(nodes.values()).filter(function (n) { return n.iri !== centre; });
    if (neighbours.length <= DEFAULT_MAX) return;
    const byClass = new Map();
    for (const n of neighbours) (byClass.get(n.cls) || byClass.set(n.cls, []).get(n.cls)).push(n);
    const keep = Math.max(4, Math.floor(DEFAULT_MAX / byClass.size));
    const degree = function (n) {
      let d = 0;
      for (const e of edges.values()) if ((e.s === n.iri && e.o === centre) || (e.o === n.iri && e.s === centre)) d += 1;
      return d;
    };
    for (const [cls, list] of byClass) {
      const kept = RECORD_CLASSES.has(cls) ? 0 : keep;
      if (list.length <= kept + 1) continue;
      list.sort(function (a, b) { return degree(b) - degree(a) || a.label.localeCompare(b.label); });
      const rest = list.slice(kept).map(function (n) { return n.iri; });
      folded.set(cls, new Set(rest));
      const id = "more:" + cls;
      cy.add([{ group: "nodes", data: { id: id, label: "+ " + rest.length + " more " + cls, full: rest.length + " more of class " + cls,
        cls: cls, colour: "#c9d2e3" }, classes: "more" },
      { group: "edges", data: { id: id + " edge", source: centre, target: id, label: "" }, classes: "more" }]);
    }
  }

  // Nodes linked to a node just expanded come out from behind their "+ more" node.
  function release(rows) {
    for (const r of rows) {
      for (const iri of [r.s, r.o]) {
        for (const [cls, set] of folded) {
          if (!set.delete(iri)) continue;
          const more = cy.getElementById("more:" + cls);
          if (!set.size) { folded.delete(cls); cy.remove(more); }
          else more.data({ label: "+ " + set.size + " more " + cls, full: set.size + " more of class " + cls });
        }
      }
    }
  }

  function unfold(cls) {
    if (!folded.has(cls)) return;
    folded.delete(cls);
    cy.remove(cy.getElementById("more:" + cls));
    applyVisibility();
    layout();
    renderLegend();
    report();
  }

  // A node is drawn unless its class is hidden or it waits behind a "+ more" node.
  function applyVisibility() {
    const behind = new Set();
    for (const set of folded.values()) for (const iri of set) behind.add(iri);
    cy.batch(function () {
      cy.nodes().forEach(function (n) {
        const hide = hiddenClasses.has(n.data("cls")) || behind.has(n.id());
        n.style("display", hide ? "none" : "element");
      });
    });
  }

  // fCoSE: a force-directed layout whose node sizes include the labels, so labels keep apart;
  // a last pass nudges apart any labels that still touch.
  function layout() {
    performance.mark("cowkg:layout-start");
    const visible = cy.elements(":visible");
    const options = window.cytoscapeFcose ? {
      name: "fcose", quality: "default", randomize: true, animate: false, fit: true, padding: 24,
      nodeDimensionsIncludeLabels: true, uniformNodeDimensions: false, packComponents: true,
      idealEdgeLength: function () { return 70; }, nodeRepulsion: function () { return 9000; },
      nodeSeparation: 60, gravity: 0.3, gravityRange: 3.0, numIter: 1500, tile: true,
    } : { name: "cose", animate: false, fit: true, padding: 24, nodeDimensionsIncludeLabels: true };
    visible.layout(options).run();
    performance.mark("cowkg:layout-forces");
    separateLabels();
    cy.fit(visible, 24);
    if (cy.zoom() > 1.8) { cy.zoom(1.8); cy.center(visible); }
    performance.mark("cowkg:layout-end");
  }

  function boxes() {
    return cy.nodes(":visible").map(function (n) { return { n: n, b: n.boundingBox({ includeLabels: true }) }; });
  }

  function overlap(a, b) {
    return Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1) > 0.5 && Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1) > 0.5;
  }

  function separateLabels() {
    for (let round = 0; round < 300; round++) {
      const list = boxes();
      let moved = false;
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const a = list[i].b, b = list[j].b;
          if (!overlap(a, b)) continue;
          const dx = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1), dy = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
          const pa = list[i].n.position(), pb = list[j].n.position();
          const sign = function (v, w) { return v < w ? -1 : 1; };
          if (dy < dx) {
            const step = dy / 2 + 1;
            list[i].n.position({ x: pa.x, y: pa.y + sign(pa.y, pb.y) * step });
            list[j].n.position({ x: pb.x, y: pb.y - sign(pa.y, pb.y) * step });
          } else {
            const step = dx / 2 + 1;
            list[i].n.position({ x: pa.x + sign(pa.x, pb.x) * step, y: pa.y });
            list[j].n.position({ x: pb.x - sign(pa.x, pb.x) * step, y: pb.y });
          }
          a.x1 = NaN; // recompute next round
          moved = true;
        }
      }
      if (!moved) return;
    }
  }

  // Pairs of drawn labels that overlap (the browser tests expect none).
  function overlaps() {
    const list = boxes(), out = [];
    for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) {
      if (overlap(list[i].b, list[j].b)) out.push([list[i].n.data("full"), list[j].n.data("full")]);
    }
    return out;
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
      const box = V.el("input", { type: "checkbox", value: cls, checked: !hiddenClasses.has(cls), "data-class": cls });
      box.addEventListener("change", function () {
        if (box.checked) hiddenClasses.delete(cls); else hiddenClasses.add(cls);
        applyVisibility();
        layout();
        report();
      });
      const more = folded.has(cls) ? " (" + (n - folded.get(cls).size) + " of " + n + " shown)" : " (" + n + ")";
      ul.append(V.el("li", {}, [V.el("label", {}, [box, " ", V.el("i", { style: "background:" + colour(cls) }), cls + more])]));
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
    const ext = cy.elements(":visible").boundingBox();
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
    cy.edges(":visible").forEach(function (e) {
      const a = e.source().position(), b = e.target().position();
      add(g, "line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: "#9aa6bd", "stroke-width": 1 });
    });
    cy.nodes(":visible").forEach(function (n) {
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
      { selector: "node", style: { "background-color": "data(colour)", label: "data(label)", "font-size": 10, width: 16, height: 16,
        "text-valign": "bottom", "text-halign": "center", "text-margin-y": 3, color: "#1d2330", "text-wrap": "wrap",
        "text-max-width": "120px", "text-background-color": "#ffffff", "text-background-opacity": 0.85,
        "text-background-padding": "1px", "min-zoomed-font-size": 6 } },
      { selector: "node.expanded", style: { width: 24, height: 24, "border-width": 3, "border-color": "#0b3d91", "font-weight": "bold", "font-size": 11 } },
      { selector: "node.more", style: { shape: "round-rectangle", width: 18, height: 12, "border-width": 1, "border-color": "#6c7a93",
        color: "#2c3444", "font-style": "italic" } },
      { selector: "node:selected", style: { "border-width": 3, "border-color": "#f0a500" } },
      { selector: "edge", style: { width: 1, "line-color": "#b5bfd0", "target-arrow-color": "#b5bfd0", "target-arrow-shape": "triangle",
        "arrow-scale": 0.6, "curve-style": "straight", label: "", "font-size": 8, color: "#4f5868", "text-rotation": "autorotate",
        "text-background-color": "#ffffff", "text-background-opacity": 0.85 } },
      { selector: "edge.more", style: { "line-style": "dashed", "target-arrow-shape": "none" } },
      { selector: "edge.labelled", style: { label: "data(label)", "line-color": "#6c7a93", width: 1.5 } },
    ],
  });
  cy.on("mouseover", "node", function (evt) { cy.container().title = evt.target.data("full"); });
  cy.on("tap", "node", function (evt) {
    const iri = evt.target.id();
    if (evt.target.hasClass("more")) { unfold(evt.target.data("cls")); return; }
    cy.edges().removeClass("labelled");
    evt.target.connectedEdges().addClass("labelled");
    showDetails(iri);
    if (!expanded.has(iri)) expand(iri).catch(V.fail);
  });
  document.getElementById("show-all").addEventListener("click", function () {
    hiddenClasses.clear();
    for (const cls of Array.from(folded.keys())) { folded.delete(cls); cy.remove(cy.getElementById("more:" + cls)); }
    applyVisibility();
    layout();
    renderLegend();
    report();
  });
  document.getElementById("relayout").addEventListener("click", function () { layout(); });

  V.downloads(exportSvg, "cowkg-graph", pngBlob);
  expand(cfg.iri, true).then(function () {
    const root = nodes.get(cfg.iri);
    document.getElementById("focus-label").textContent = root ? root.label : cfg.iri;
    document.title = "Graph: " + (root ? root.label : cfg.iri) + " · cowkg";
    V.ready({ nodes: nodes.size, edges: edges.size, shown: cy.nodes(":visible").not(".more").length,
      more: cy.nodes(".more").length });
  }).catch(V.fail);
  window.cowkgGraph = { cy: function () { return cy; }, expand: expand, overlaps: overlaps, unfold: unfold };
})();
