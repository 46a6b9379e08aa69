// The attendance view: queries/views/attendance.rq as a parties × meetings matrix (sortable, the
// membership standard highlighted) and queries/views/attendance-per-meeting.rq as a chart of
// participants per meeting (Observable Plot) with its table.
(function () {
  "use strict";
  const V = window.cowkgViews;
  const ABBR = { headOfState: "HoS", headOfGovernment: "HoG", minister: "Min", ministerialRepresentative: "Rep",
    organisationLeader: "Org", official: "Off", levelUnknown: "✓" };
  const ONLINE = "https://schema.org/OnlineEventAttendanceMode";
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const table = document.getElementById("matrix");
  let parties = [];
  let meetings = [];
  let required = 3;

  function shortDate(s) {
    const p = (s || "").split("-").map(Number);
    return p.length === 3 ? p[2] + " " + MONTHS[p[1] - 1] + " " + p[0] : s || "";
  }

  // One entry per party with its cells and the counts the membership standard looks at.
  function build(cells, perMeeting) {
    meetings = perMeeting.map(function (m) {
      return { iri: m.meeting, label: m.label, date: m.date, number: m.meetingNumber, coalition: true };
    });
    const others = new Map();
    for (const c of cells) {
      if (!c.coalition && !others.has(c.meeting)) {
        others.set(c.meeting, { iri: c.meeting, label: c.meetingLabel, date: c.date, coalition: false });
      }
    }
    meetings = meetings.concat(Array.from(others.values()).sort(function (a, b) { return a.date.localeCompare(b.date); }));
    const byParty = new Map();
    for (const c of cells) {
      if (c.required) required = c.required;
      const p = byParty.get(c.party) || { iri: c.party, label: c.partyLabel || V.localName(c.party),
        kind: V.localName(c.partyClass) === "State" ? "state" : "organisation", member: c.memberStated,
        cells: new Map(), attended: 0, cabinet: 0, unstated: 0, other: 0 };
      p.cells.set(c.meeting, c);
      if (c.present && c.coalition) {
        p.attended += 1;
        // Truthiness, not === true: Virtuoso answers boolean expressions as integers (docs/VIRTUOSO.md D1).
        if (c.cabinet === undefined) p.unstated += 1;
        else if (c.cabinet) p.cabinet += 1;
      } else if (c.present) p.other += 1;
      byParty.set(c.party, p);
    }
    parties = Array.from(byParty.values());
    for (const p of parties) {
      p.standard = p.kind !== "state" ? "" : p.cabinet >= required ? "meets" : p.cabinet + p.unstated >= required ? "may" : "";
    }
  }

  function describe(p, m, c) {
    if (!c.present) return p.label + " was recorded as not represented at " + m.label;
    const level = c.levelLabel || "level not stated";
    const who = c.attendeeLabel ? ", " + c.attendeeLabel : "";
    const mode = c.mode === ONLINE ? ", virtually" : "";
    return p.label + " at " + m.label + ": " + level + who + mode;
  }

  function cell(p, m) {
    const c = p.cells.get(m.iri);
    if (!c) return V.el("td", { class: "cell empty" });
    const level = V.localName(c.level);
    const cls = ["cell", c.present ? "lv-" + (ABBR[level] && level !== "levelUnknown" ? level : "unstated") : "absent"];
    if (c.present && c.mode === ONLINE) cls.push("virtual");
    const text = c.present ? (ABBR[level] || "✓") : "✕";
    const label = describe(p, m, c);
    // The accessible name starts with the visible text ("HoG: Albania at ...").
    return V.el("td", { class: cls.join(" "), "data-meeting": m.iri, "data-record": c.record, "data-attendee": c.attendee || null },
      [V.el("a", { href: V.pageUrl(c.record), title: label }, [text, V.el("span", { class: "sr", text: ": " + label })])]);
  }

  function renderHead() {
    const tr = V.el("tr", {}, [
      V.el("th", { scope: "col", class: "party", "data-sort": "label", text: "State or organisation" }),
      V.el("th", { scope: "col", "data-sort": "attended", "aria-sort": "descending", text: "Coalition meetings" }),
      V.el("th", { scope: "col", "data-sort": "cabinet", text: "Cabinet-level" }),
    ]);
    for (const m of meetings) {
      const text = m.coalition ? "#" + m.number : m.label.replace(/,? \d{1,2} \w+ \d{4}$/, "");
      tr.append(V.el("th", { scope: "col", class: "meeting" + (m.coalition ? "" : " other"), "data-iri": m.iri }, [
        V.el("a", { href: V.pageUrl(m.iri), title: m.label, text: m.coalition ? text : text.slice(0, 18) + (text.length > 18 ? "…" : "") }),
        V.el("br"), V.el("small", { text: shortDate(m.date) })]));
    }
    table.tHead.replaceChildren(tr);
    V.sortable(table, sort);
  }

  function renderBody() {
    const tbody = table.tBodies[0];
    tbody.replaceChildren();
    for (const p of parties) {
      const badge = p.member ? V.el("span", { class: "badge member", title: "the graph records its membership", text: "member" }) : null;
      const standard = p.standard === "meets" ? "meets-standard" : p.standard === "may" ? "may-meet-standard" : "";
      const tr = V.el("tr", { class: standard, "data-iri": p.iri }, [
        V.el("th", { scope: "row", class: "party" }, [V.link(p.iri, p.label), " ", V.el("small", { text: p.kind }), " ", badge]),
        V.el("td", { class: "num", text: String(p.attended) + (p.other ? " (+" + p.other + " other)" : "") }),
        V.el("td", { class: "num", title: p.unstated ? p.unstated + " with the level not stated" : null,
          text: p.cabinet + (p.unstated ? " (+" + p.unstated + "?)" : "") }),
      ]);
      for (const m of meetings) tr.append(cell(p, m));
      tbody.append(tr);
    }
  }

  function sort(key, dir) {
    const sign = dir === "ascending" ? 1 : -1;
    parties.sort(function (a, b) {
      const d = key === "label" ? a.label.localeCompare(b.label) : (a[key] - b[key]) || (a.cabinet - b.cabinet);
      return sign * d || a.label.localeCompare(b.label);
    });
    renderBody();
  }

  function chart(perMeeting) {
    const tick = new Map();
    const data = perMeeting.map(function (m) {
      const d = (m.date || "").split("-").map(Number);
      tick.set(Number(m.meetingNumber), "#" + m.meetingNumber + "|" + (d.length === 3 ? d[2] + " " + MONTHS[d[1] - 1].slice(0, 3) : ""));
      return { date: new Date(m.date), number: Number(m.meetingNumber), n: m.participants, recorded: m.recorded, label: "#" + m.meetingNumber,
        title: m.label + ": " + (m.participants === undefined ? "number not given" : m.participants + " (" + m.countedAs + ")") +
          "; " + m.recorded + " attendance records in the graph" };
    });
    const given = data.filter(function (d) { return d.n !== undefined; });
    const missing = data.filter(function (d) { return d.n === undefined; });
    // One band per numbered meeting (not a time axis: meetings two days apart would collide), the
    // number the source gives above its bar.
    const numbers = data.map(function (d) { return d.number; });
    const plot = Plot.plot({
      width: 920, height: 300, marginLeft: 46, marginTop: 24, marginBottom: 44,
      ariaLabel: "Participants per coalition meeting", ariaDescription: "The table that follows lists the same numbers.",
      x: { type: "band", domain: numbers, label: "coalition meeting (number, date)", tickFormat: function (n) { return tick.get(n); },
        padding: 0.3 },
      y: { label: "participants", grid: true, domain: [0, 40] },
      marks: [
        Plot.ruleY([0]),
        Plot.ruleX(given, { x: "number", y: "n", stroke: "#6c93d8", strokeWidth: 9, title: "title", className: "participants-bar" }),
        Plot.ruleX(missing, { x: "number", y1: 0, y2: 40, stroke: "#9aa6bd", strokeDasharray: "3,3", title: "title", className: "participants-missing" }),
        Plot.dot(data, { x: "number", y: "recorded", fill: "#d9730d", r: 4, title: "title", className: "recorded-dot" }),
        Plot.text(given, { x: "number", y: "n", text: function (d) { return String(d.n); }, dy: -9, fontSize: 10 }),
      ],
    });
    // Two-line ticks: "#11" over "4 Sep".
    plot.querySelectorAll("[aria-label='x-axis tick label'] text, g[aria-label='x-axis tick label'] text").forEach(function (t) {
      const [num, date] = t.textContent.split("|");
      t.textContent = "";
      const a = document.createElementNS("http://www.w3.org/2000/svg", "tspan");
      a.setAttribute("x", t.getAttribute("x") || 0);
      a.textContent = num;
      const b = document.createElementNS("http://www.w3.org/2000/svg", "tspan");
      b.setAttribute("x", t.getAttribute("x") || 0);
      b.setAttribute("dy", "1.15em");
      b.textContent = date || "";
      t.append(a, b);
    });
    // The figure is one image (role="img", named below); Plot's own labels on inner groups would be
    // ARIA attributes on elements without a role.
    plot.querySelectorAll("[aria-label]").forEach(function (n) { if (n !== plot) n.removeAttribute("aria-label"); });
    plot.querySelectorAll("[aria-description]").forEach(function (n) { if (n !== plot) n.removeAttribute("aria-description"); });
    document.getElementById("participants-chart").replaceChildren(plot);
    const tbody = document.querySelector("#participants-table tbody");
    tbody.replaceChildren();
    for (const m of perMeeting) {
      tbody.append(V.el("tr", {}, [
        V.el("td", {}, [V.link(m.meeting, m.label)]),
        V.el("td", { class: "nowrap", text: shortDate(m.date) }),
        V.el("td", { text: m.levelLabel || "" }),
        V.el("td", { text: m.mode ? V.localName(m.mode).replace("EventAttendanceMode", "").toLowerCase() : "" }),
        V.el("td", { class: "num", text: m.participants === undefined ? "not given" : String(m.participants) }),
        V.el("td", { text: m.countedAs || "" }),
        V.el("td", { class: "num", text: String(m.recorded) }),
      ]));
    }
    return plot;
  }

  function exportSvg() {
    const matrix = V.domToSvg(table, "tbody tr, thead th, tbody th, tbody td", "Coalition of the Willing: attendance");
    const plot = document.querySelector("#participants-chart svg").cloneNode(true);
    const mh = Number(matrix.getAttribute("height"));
    const w = Math.max(Number(matrix.getAttribute("width")), 920);
    const h = mh + 320;
    const svg = document.createElementNS(V.SVGNS, "svg");
    svg.setAttribute("width", w);
    svg.setAttribute("height", h);
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    const bg = document.createElementNS(V.SVGNS, "rect");
    bg.setAttribute("width", w);
    bg.setAttribute("height", h);
    bg.setAttribute("fill", "#fff");
    svg.append(bg, matrix);
    plot.setAttribute("x", 0);
    plot.setAttribute("y", mh + 10);
    svg.append(plot);
    return svg;
  }

  Promise.all([V.fetchQuery("attendance"), V.fetchQuery("attendance-per-meeting")]).then(function ([cells, per]) {
    build(cells.rows, per.rows);
    renderHead();
    sort("attended", "descending");
    document.getElementById("standard-note").textContent =
      "Membership standard: " + required + " cabinet-level participations in coalition meetings (from the graph's " +
      "membership criterion). Rows in green reach it with the levels the graph records; pale green rows reach it only " +
      "if participations whose level is not stated were at cabinet level. “member” marks a membership the graph records.";
    chart(per.rows);
    V.downloads(exportSvg, "cowkg-attendance");
    const filled = cells.rows.length;
    V.status(parties.length + " states and organisations × " + meetings.length + " meetings (" +
      per.rows.length + " coalition meetings); " + filled + " cells recorded.");
    focusFromUrl();
    V.ready({ rows: parties.length, columns: meetings.length, cells: table.querySelectorAll("td.cell:not(.empty)").length,
      bars: per.rows.length });
  }).catch(V.fail);

  // ?focus=<iri>: a state's or organisation's row, a meeting's column, or the cells of an attendee
  // or an attendance record are marked and scrolled into view; the status line says what was found.
  function focusFromUrl() {
    const iri = new URLSearchParams(location.search).get("focus");
    if (!iri) return;
    const q = CSS.escape(iri);
    const row = table.querySelector('tbody tr[data-iri="' + q + '"]');
    const column = table.querySelector('thead th[data-iri="' + q + '"]');
    const cells = table.querySelectorAll('td[data-meeting="' + q + '"], td[data-attendee="' + q + '"], td[data-record="' + q + '"]');
    let found = "";
    if (row) { row.classList.add("focused"); found = "its row"; }
    if (column) column.classList.add("focused");
    cells.forEach(function (c) { c.classList.add("focused"); });
    if (column) found = "its column (" + cells.length + " cells)";
    else if (!row && cells.length) found = cells.length + " cell" + (cells.length > 1 ? "s" : "");
    const target = row || column || cells[0];
    if (target) {
      target.scrollIntoView({ block: "center", inline: "center" });
      V.status("Marked " + found + " for " + (row ? row.querySelector("a").textContent : iri) + ". " +
        document.querySelector(".view-status").textContent);
    } else {
      V.status("No attendance of " + iri + " is recorded: the matrix shows states and organisations, and the people who attended for them.");
    }
  }
})();
