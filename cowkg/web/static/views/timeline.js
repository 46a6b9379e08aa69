// The timeline view: the rows of queries/views/timeline.rq drawn with vis-timeline (zoom and pan),
// one lane per kind of record (status observations, dated by cow:asOf, in a lane of their own),
// planned and proposed items drawn apart from what happened; filters by status, kind and actor;
// the same rows as a table (the text alternative). Every item is a box that starts at its date and
// is as wide as its label, so vis-timeline stacks the boxes of a lane without overlap and no label
// is cut; a stay of several days is a bar under its label; the window leaves room for the last
// labels. ?focus=<iri> selects an item, or an actor's items.
(function () {
  "use strict";
  const V = window.cowkgViews;
  const LANES = ["coalition meetings", "other meetings and events", "documents and plans",
    "statements, reports and views", "pledges", "statuses (as of)"];
  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December"];
  // How the source presents an item → one of three looks.
  const STATUS_GROUP = { plan: "planned", proposal: "planned", claim: "said", report: "said", view: "said",
    refquote: "said" };
  const container = document.getElementById("timeline");
  const tbody = document.querySelector("#timeline-table tbody");
  const details = document.getElementById("details");
  let all = [];
  let timeline;
  const dataset = new vis.DataSet();

  function statusGroup(row) { return STATUS_GROUP[V.localName(row.status)] || "happened"; }

  // "2025-03-02" / "2025-09" / "2025" → [first day, day after the last day] as local dates.
  function span(start, end) {
    const parse = function (s, last) {
      const p = s.split("-").map(Number);
      if (p.length === 3) return new Date(p[0], p[1] - 1, p[2] + (last ? 1 : 0));
      if (p.length === 2) return new Date(p[0], p[1] - 1 + (last ? 1 : 0), 1);
      return new Date(p[0] + (last ? 1 : 0), 0, 1);
    };
    return [parse(start, false), parse(end || start, true)];
  }

  function showDate(row) {
    const one = function (s) {
      const p = s.split("-").map(Number);
      if (p.length === 3) return p[2] + " " + MONTHS[p[1] - 1] + " " + p[0];
      if (p.length === 2) return MONTHS[p[1] - 1] + " " + p[0];
      return String(p[0]);
    };
    return row.end && row.end !== row.start ? one(row.start) + " – " + one(row.end) : one(row.start);
  }

  function shortLabel(label) {
    let s = label.replace(/\s*\((?:[^()]*\d{4}[^()]*)\)\s*$/, "").replace(/,\s*(?:\d{1,2}[–-])?\d{1,2} \w+ \d{4}$/, "");
    s = s.replace(/^Coalition meeting (\d+): /, "#$1 ");
    return s.length > 30 ? s.slice(0, 28) + "…" : s;
  }

  function toItem(row) {
    const [start] = span(row.start, row.end);
    const precision = row.start.length === 10 ? "day" : row.start.length === 7 ? "month" : "year";
    const several = row.end && row.end !== row.start && row.end.length === 10 && precision === "day";
    const content = V.el("span", { class: "tl-item" }, [V.link(row.item, shortLabel(row.label))]);
    if (precision !== "day") content.prepend(V.el("span", { class: "tl-precision", text: showDate(row) + ": " }));
    else if (several) content.prepend(V.el("span", { class: "tl-precision", text: showDate(row) + ": " }));
    if (statusGroup(row) === "planned") content.prepend(V.el("span", { class: "tl-flag", text: row.statusLabel + ": " }));
    return {
      id: row.item, group: row.lane, content: content, start: start, type: "box",
      className: "st-" + statusGroup(row) + " status-" + V.localName(row.status) + " precision-" + precision,
      title: row.label + " — " + showDate(row) + " — " + row.kind + ", " + row.statusLabel,
    };
  }

  // The window's end before anything is drawn: each box's width from its text (measured on a canvas
  // in the items' font), then the rule of fitLabels below, with the panel's width estimated.
  function windowEnd(rows, start) {
    const ctx = document.createElement("canvas").getContext("2d");
    const font = getComputedStyle(container).fontFamily || "system-ui, sans-serif";
    const width = Math.max(200, container.clientWidth - 170);
    let end = new Date(2026, 0, 12).valueOf();
    for (const row of rows) {
      const item = toItem(row);
      let w = 14;  // padding and borders
      for (const node of item.content.querySelectorAll("span, a")) {
        if (node.tagName === "SPAN" && node.classList.contains("tl-item")) continue;
        ctx.font = (node.classList.contains("tl-flag") ? "600 " : "") +
          (node.classList.contains("tl-precision") ? "11px " : "12px ") + font;
        w += ctx.measureText(node.textContent).width;
      }
      const date = item.start.valueOf(), room = width - w;
      if (room > 0 && date > start.valueOf()) end = Math.max(end, start.valueOf() + (date - start.valueOf()) * width / room);
    }
    return new Date(start.valueOf() + (end - start.valueOf()) * 1.03);
  }

  // Widen the window so that no box sticks out of it on the right. A box starts at its date d and is
  // w px wide; in a window [start, end] drawn W px wide it ends at (d - start) / (end - start) * W + w,
  // so the window must end at least at start + (d - start) * W / (W - w): one measure, one redraw.
  function fitLabels() {
    const panel = container.querySelector(".vis-panel.vis-center");
    if (!panel) return false;
    const width = panel.getBoundingClientRect().width;
    const w = timeline.getWindow();
    const start = w.start.valueOf();
    let end = w.end.valueOf();
    const boxes = container.querySelectorAll(".vis-item.vis-box");
    for (const el of boxes) {
      const item = el.dataset.id ? dataset.get(el.dataset.id) : null;
      if (!item) continue;
      const date = item.start.valueOf();
      const room = width - el.getBoundingClientRect().width - 8;
      if (room > 0 && date > start) end = Math.max(end, start + (date - start) * width / room);
    }
    if (end <= w.end.valueOf()) return false;
    // A little slack: a page that grows a scrollbar narrows the panel.
    end = start + (end - start) * 1.04;
    timeline.setWindow(w.start, new Date(end), { animation: false });
    return timeline.getWindow().end.valueOf() > w.end.valueOf();
  }

  function selected() {
    const form = document.getElementById("timeline-filters");
    const statuses = new Set(Array.from(form.querySelectorAll("input[name=status]:checked")).map(function (i) { return i.value; }));
    const kinds = new Set(Array.from(form.querySelectorAll("input[name=kind]:checked")).map(function (i) { return i.value; }));
    const actor = document.getElementById("actor-select").value;
    return all.filter(function (r) {
      return statuses.has(statusGroup(r)) && kinds.has(r.kind) &&
        (!actor || r.actorList.some(function (a) { return a.iri === actor; }));
    });
  }

  function renderTable(rows) {
    tbody.replaceChildren();
    for (const r of rows) {
      tbody.append(V.el("tr", { class: "st-" + statusGroup(r), "data-iri": r.item }, [
        V.el("td", { class: "nowrap", text: showDate(r) }),
        V.el("td", {}, [V.link(r.item, r.label)]),
        V.el("td", { text: r.lane }),
        V.el("td", { text: r.kind }),
        V.el("td", {}, [V.el("span", { class: "status-badge st-" + statusGroup(r), text: r.statusLabel })]),
        V.el("td", {}, [V.links(r.actorList)]),
        V.el("td", {}, [V.links(r.sourceList)]),
      ]));
    }
  }

  function showDetails(row) {
    if (!row) { details.hidden = true; return; }
    details.replaceChildren(
      V.el("h2", {}, [V.link(row.item, row.label)]),
      V.el("dl", {}, [
        V.el("dt", { text: "Date" }), V.el("dd", { text: showDate(row) }),
        V.el("dt", { text: "Status" }), V.el("dd", { text: row.statusLabel }),
        V.el("dt", { text: "Kind" }), V.el("dd", { text: row.kind + " (" + row.lane + ")" }),
        V.el("dt", { text: "Actors" }), V.el("dd", {}, [row.actorList.length ? V.links(row.actorList) : "none recorded"]),
        V.el("dt", { text: "Sources" }), V.el("dd", {}, [row.sourceList.length ? V.links(row.sourceList) : "no citation marker"]),
      ]),
      V.el("p", {}, [V.el("a", { href: "/graph?iri=" + encodeURIComponent(row.item), text: "Show its links as a graph" })]));
    details.hidden = false;
  }

  function apply() {
    const rows = selected();
    dataset.clear();
    dataset.add(rows.map(toItem));
    renderTable(rows);
    V.status("Showing " + rows.length + " of " + all.length + " dated items (November 2024 – December 2025).");
    return rows;
  }

  function buildFilters() {
    const kinds = Array.from(new Set(all.map(function (r) { return r.kind; }))).sort();
    const boxes = document.getElementById("kind-boxes");
    for (const k of kinds) {
      const n = all.filter(function (r) { return r.kind === k; }).length;
      boxes.append(V.el("label", {}, [V.el("input", { type: "checkbox", name: "kind", value: k, checked: true }), " " + k + " (" + n + ")"]));
    }
    const actors = new Map();
    for (const r of all) for (const a of r.actorList) {
      const entry = actors.get(a.iri) || { label: a.label, n: 0 };
      entry.n += 1;
      actors.set(a.iri, entry);
    }
    const select = document.getElementById("actor-select");
    Array.from(actors.entries()).sort(function (a, b) { return a[1].label.localeCompare(b[1].label); })
      .forEach(function ([iri, a]) { select.append(V.el("option", { value: iri, text: a.label + " (" + a.n + ")" })); });
    document.getElementById("timeline-filters").addEventListener("change", apply);
  }

  function controls() {
    const range = function () { const w = timeline.getWindow(); return w.end - w.start; };
    const pan = function (dir) {
      const w = timeline.getWindow(), d = range() * 0.25 * dir;
      timeline.setWindow(new Date(w.start.valueOf() + d), new Date(w.end.valueOf() + d), { animation: false });
    };
    const zoom = function (how) {
      if (how === "in") timeline.zoomIn(0.5, { animation: false });
      else if (how === "out") timeline.zoomOut(0.5, { animation: false });
      else timeline.fit({ animation: false });
    };
    document.querySelectorAll(".zoom-bar [data-zoom]").forEach(function (b) {
      b.addEventListener("click", function () { zoom(b.dataset.zoom); });
    });
    document.querySelectorAll(".zoom-bar [data-pan]").forEach(function (b) {
      b.addEventListener("click", function () { pan(Number(b.dataset.pan)); });
    });
    container.addEventListener("keydown", function (e) {
      if (e.target !== container) return;
      const keys = { "+": function () { zoom("in"); }, "=": function () { zoom("in"); }, "-": function () { zoom("out"); },
        ArrowLeft: function () { pan(-1); }, ArrowRight: function () { pan(1); }, "0": function () { zoom("fit"); } };
      if (keys[e.key]) { keys[e.key](); e.preventDefault(); }
    });
    timeline.on("select", function (props) {
      showDetails(all.find(function (r) { return r.item === props.items[0]; }));
    });
    container.addEventListener("focusin", function (e) {
      const row = e.target.closest && e.target.closest(".tl-item") && all.find(function (r) { return r.item === e.target.title; });
      if (row) showDetails(row);
    });
  }

  // ?focus=<iri>: an item is selected and shown; an actor's items are filtered in.
  function focusFromUrl() {
    const iri = new URLSearchParams(location.search).get("focus");
    if (!iri) return;
    const item = all.find(function (r) { return r.item === iri; });
    const select = document.getElementById("actor-select");
    if (item) {
      timeline.setSelection([iri], { focus: true, animation: false });
      showDetails(item);
      V.status("Showing " + item.label + " (" + showDate(item) + ") among " + all.length + " dated items.");
    } else if (select.querySelector('option[value="' + CSS.escape(iri) + '"]')) {
      select.value = iri;
      const rows = apply();
      const label = select.selectedOptions[0].textContent.replace(/ \(\d+\)$/, "");
      V.status(rows.length + " dated items with " + label + " (choose “all actors” to see every item).");
      if (rows.length) timeline.fit({ animation: false });
    } else {
      V.status("Nothing on the timeline involves " + iri + ": showing all " + all.length + " dated items.");
    }
  }

  V.fetchQuery("timeline").then(function (res) {
    all = res.rows.map(function (r) {
      return Object.assign(r, { actorList: V.entries(r.actors), sourceList: V.entries(r.sources) });
    });
    buildFilters();
    const groups = new vis.DataSet(LANES.map(function (l, i) { return { id: l, content: l, order: i }; }));
    performance.mark("cowkg:data");
    const rows = apply();
    const first = new Date(2024, 9, 25);
    timeline = new vis.Timeline(container, dataset, groups, {
      min: new Date(2024, 8, 1), max: new Date(2026, 11, 31),
      zoomMin: 1000 * 60 * 60 * 24 * 4, stack: true, orientation: "top", showCurrentTime: false, align: "left",
      dataAttributes: ["id"],
      margin: { item: { horizontal: 4, vertical: 4 } }, groupOrder: "order",
      tooltip: { followMouse: false, delay: 200 }, xss: { disabled: false },
      // No start/end options (vis-timeline draws several times over with them): the first draw fits
      // the data, then the window is set once, its end computed from the labels' widths; a last
      // check widens it should a box still stick out.
      onInitialDrawComplete: function () {
        performance.mark("cowkg:drawn");
        let rounds = 0, settled = false;
        const finish = function () {
          if (settled) return;
          settled = true;
          focusFromUrl();
          V.ready({ items: rows.length, drawn: container.querySelectorAll(".tl-item").length });
        };
        timeline.on("changed", function () {
          if (settled) return;
          if (rounds++ < 2 && fitLabels()) return;  // the window moved: another "changed" follows
          finish();
        });
        setTimeout(finish, 1500);  // should vis-timeline not say "changed" after a window change
        timeline.setWindow(first, windowEnd(rows, first), { animation: false });
      },
    });
    window.cowkgTimeline = timeline;
    controls();
    V.downloads(function () {
      return V.domToSvg(container, ".vis-label, .vis-time-axis .vis-text, .vis-item.vis-box, .vis-item.vis-range, .vis-item.vis-point",
        "Coalition of the Willing: timeline (" + dataset.length + " items)", container.querySelector(".vis-panel.vis-center"));
    }, "cowkg-timeline");
  }).catch(V.fail);
})();
