// The map view: the places of queries/views/places.rq on a world map drawn with d3-geo from the
// Natural Earth TopoJSON of the npm package world-atlas (served by this app: no tile server).
// Markers sit at the positions the query returns (?lat / ?lon, from each place's schema:geo node in the
// graph: approximate display positions of the cowkg gazetteer, not facts of the article). A place
// without a position is listed in the table only.
// Markers that would overlap at the current zoom are pushed apart, with a line to their position.
// Every marker, venues included, gets its label where it has room: each label tries sixteen places
// around its marker (right first) and takes the first that touches no other label or marker; a
// label with no room waits for a closer zoom (and shows on hover and keyboard focus).
// ?focus=<iri> zooms to a place, or to the places of what is located there, and marks them.
(function () {
  "use strict";
  const V = window.cowkgViews;
  const cfg = V.config;
  const svg = d3.select("#map");
  const REGIONS = { europe: [[-11, 36], [36, 59]], london: [[-0.5, 51.42], [0.05, 51.68]], paris: [[2.15, 48.8], [2.45, 48.92]] };
  const PRIORITY = { City: 0, Region: 1, Settlement: 2, Venue: 3 };
  function rank(p) { const r = PRIORITY[V.localName(p.class)]; return r === undefined ? 9 : r; }
  let places = [];
  let projection, zoom, width, height;
  let transform = d3.zoomIdentity;

  function uses(p) { return V.entries(p.uses); }

  function draw(world) {
    width = svg.node().clientWidth || 1000;
    height = svg.node().clientHeight || 600;
    svg.attr("viewBox", "0 0 " + width + " " + height).attr("width", width).attr("height", height);
    // Plain Mercator as a planar transform: Natural Earth's shapes are already cut at the antimeridian,
    // so d3's spherical clipping and resampling (several times slower on the 1:50m data) are not needed.
    const k = width / (2 * Math.PI), cx = width / 2, cy = height / 2 + width * 0.08;
    projection = function (lonlat) {
      const lat = Math.max(-85, Math.min(85, lonlat[1])) * Math.PI / 180;
      return [cx + k * lonlat[0] * Math.PI / 180, cy - k * Math.log(Math.tan(Math.PI / 4 + lat / 2))];
    };
    const path = d3.geoPath(d3.geoTransform({
      point: function (x, y) { const p = projection([x, y]); this.stream.point(p[0], p[1]); },
    })).digits(3);  // 0.001 px at zoom 1: still sub-pixel when zoomed in on a city
    svg.append("rect").attr("width", width).attr("height", height).attr("fill", "#eef4fa");
    const base = svg.append("g").attr("class", "base");
    base.append("path").attr("class", "graticule").attr("d", path(d3.geoGraticule().step([10, 10]).precision(1)()));
    // One path for all the countries (their outlines are the borders): cheaper than a path per country.
    base.append("path").attr("class", "land").attr("d", path(topojson.feature(world, world.objects.countries)));
    const layer = svg.append("g").attr("class", "markers");
    layer.append("g").attr("class", "leaders");
    const placed = places.filter(function (p) { return p.pos; }).sort(function (a, b) {
      return rank(a) - rank(b) || b.things - a.things;
    });
    const marker = layer.selectAll("a.marker").data(placed, function (p) { return p.place; }).join("a")
      .attr("class", function (p) {
        return "marker " + V.localName(p.class) + (p.hqSite ? " hq" : "") + (p.plannedHq ? " planned-hq" : "");
      })
      .attr("href", function (p) { return V.pageUrl(p.place); })
      .attr("data-iri", function (p) { return p.place; })
      .attr("data-lat", function (p) { return p.lat; })
      .attr("data-lon", function (p) { return p.lon; })
      .attr("aria-label", function (p) { return p.label + " (" + p.classLabel + "): " + p.things + " things located there"; });
    marker.append("title").text(function (p) {
      const list = uses(p).map(function (u) { return "• " + u.label + (u.role === "location" ? "" : " [" + u.role + "]"); });
      return p.label + " (" + p.classLabel + (p.withinLabel ? ", in " + p.withinLabel : "") + ")" + (list.length ? "\n" + list.join("\n") : "");
    });
    marker.append("circle").attr("r", function (p) {
      const cls = V.localName(p.class);
      return cls === "Region" ? 9 : cls === "City" ? 5 + Math.min(p.things, 6) * 0.6 : 4;
    });
    marker.filter(function (p) { return p.hqSite || p.plannedHq; }).append("rect")
      .attr("x", 3).attr("y", -9).attr("width", 7).attr("height", 7);
    marker.append("text").attr("x", 8).attr("y", 4).text(function (p) { return p.label; });
    return placed;
  }

  // Screen positions at the current zoom; overlapping markers move outward on a spiral.
  function position() {
    const taken = [];
    const leaders = [];
    svg.selectAll("a.marker").each(function (p) {
      const [x0, y0] = transform.apply(projection([p.pos.lon, p.pos.lat]));
      let x = x0, y = y0, step = 0;
      while (taken.some(function (t) { return Math.hypot(t[0] - x, t[1] - y) < 11; }) && step < 60) {
        step += 1;
        const angle = step * 0.9, radius = 8 + step * 1.6;
        x = x0 + radius * Math.cos(angle);
        y = y0 + radius * Math.sin(angle);
      }
      taken.push([x, y]);
      if (step) leaders.push([x0, y0, x, y]);
      d3.select(this).attr("transform", "translate(" + x.toFixed(1) + "," + y.toFixed(1) + ")")
        .classed("moved", step > 0);
    });
    svg.select("g.leaders").selectAll("line").data(leaders).join("line").attr("class", "leader")
      .attr("x1", function (l) { return l[0]; }).attr("y1", function (l) { return l[1]; })
      .attr("x2", function (l) { return l[2]; }).attr("y2", function (l) { return l[3]; });
    placeLabels();
  }

  // Greedy label placement in marker priority order (cities, regions, settlements, venues; busiest first).
  const CANDIDATES = [[8, 4, "start"], [-8, 4, "end"], [0, -10, "middle"], [0, 16, "middle"],
    [7, -7, "start"], [7, 13, "start"], [-7, -7, "end"], [-7, 13, "end"],
    [15, 4, "start"], [-15, 4, "end"], [0, -18, "middle"], [0, 24, "middle"],
    [13, -14, "start"], [-13, -14, "end"], [13, 20, "start"], [-13, 20, "end"]];
  function placeLabels() {
    const taken = [];
    svg.selectAll("a.marker").each(function () {
      const m = this.getAttribute("transform").match(/translate\(([-\d.]+),([-\d.]+)\)/);
      const r = Number(this.querySelector("circle").getAttribute("r"));
      if (m) taken.push({ x1: +m[1] - r, y1: +m[2] - r, x2: +m[1] + r, y2: +m[2] + r, own: this });
    });
    svg.selectAll("a.marker").each(function (p) {
      const self = this;
      const text = this.querySelector("text");
      const m = this.getAttribute("transform").match(/translate\(([-\d.]+),([-\d.]+)\)/);
      const x = +m[1], y = +m[2];
      const w = p.labelWidth || (p.labelWidth = text.getComputedTextLength() || p.label.length * 6.2), h = 12;
      let chosen = null;
      for (const [dx, dy, anchor] of CANDIDATES) {
        const left = anchor === "start" ? x + dx : anchor === "end" ? x + dx - w : x + dx - w / 2;
        const box = { x1: left - 1, y1: y + dy - h + 2, x2: left + w + 1, y2: y + dy + 3 };
        if (box.x1 < 0 || box.x2 > width || box.y1 < 0 || box.y2 > height) continue;
        if (taken.some(function (t) { return t.own !== self && t.x1 < box.x2 && box.x1 < t.x2 && t.y1 < box.y2 && box.y1 < t.y2; })) continue;
        chosen = [dx, dy, anchor, box];
        break;
      }
      if (chosen) {
        taken.push(chosen[3]);
        text.setAttribute("x", chosen[0]);
        text.setAttribute("y", chosen[1]);
        text.setAttribute("text-anchor", chosen[2]);
        text.classList.remove("no-room");
      } else {
        text.setAttribute("x", 8);
        text.setAttribute("y", 4);
        text.setAttribute("text-anchor", "start");
        text.classList.add("no-room");
      }
    });
  }

  // The screen boxes of the labels drawn (the browser tests check that no two overlap).
  function labelBoxes() {
    return Array.from(document.querySelectorAll("#map a.marker text:not(.no-room)")).map(function (t) {
      const b = t.getBoundingClientRect();
      return { label: t.textContent, x1: b.left, y1: b.top, x2: b.right, y2: b.bottom };
    });
  }

  function fitBox(box, animate) {
    const [[x0, y0], [x1, y1]] = [projection(box[0]), projection(box[1])];
    const k = Math.min(width / Math.abs(x1 - x0), height / Math.abs(y1 - y0)) * 0.9;
    const t = d3.zoomIdentity.translate(width / 2, height / 2).scale(k).translate(-(x0 + x1) / 2, -(y0 + y1) / 2);
    (animate ? svg.transition().duration(300) : svg).call(zoom.transform, t);
  }

  function boxOf(list) {
    const lons = list.map(function (p) { return p.pos.lon; }), lats = list.map(function (p) { return p.pos.lat; });
    return [[Math.min.apply(null, lons) - 3, Math.min.apply(null, lats) - 3], [Math.max.apply(null, lons) + 3, Math.max.apply(null, lats) + 3]];
  }

  function controls(placed) {
    zoom = d3.zoom().scaleExtent([0.8, 3000]).on("zoom", function (event) {
      transform = event.transform;
      svg.select("g.base").attr("transform", transform);
      position();
    });
    svg.call(zoom);
    document.querySelectorAll(".zoom-bar [data-zoom]").forEach(function (b) {
      b.addEventListener("click", function () { svg.call(zoom.scaleBy, b.dataset.zoom === "in" ? 2 : 0.5); });
    });
    document.querySelectorAll(".zoom-bar [data-region]").forEach(function (b) {
      b.addEventListener("click", function () {
        fitBox(b.dataset.region === "all" ? boxOf(placed) : REGIONS[b.dataset.region], true);
      });
    });
    svg.on("keydown", function (event) {
      if (event.target !== svg.node()) return;
      const moves = { ArrowLeft: [60, 0], ArrowRight: [-60, 0], ArrowUp: [0, 60], ArrowDown: [0, -60] };
      if (event.key === "+" || event.key === "=") svg.call(zoom.scaleBy, 2);
      else if (event.key === "-") svg.call(zoom.scaleBy, 0.5);
      else if (moves[event.key]) svg.call(zoom.translateBy, moves[event.key][0] / transform.k, moves[event.key][1] / transform.k);
      else return;
      event.preventDefault();
    });
  }

  function renderTable() {
    const tbody = document.querySelector("#places-table tbody");
    tbody.replaceChildren();
    const sorted = places.slice().sort(function (a, b) { return a.label.localeCompare(b.label); });
    for (const p of sorted) {
      const list = V.el("ul", {});
      for (const u of uses(p)) {
        list.append(V.el("li", {}, [u.role === "location" ? "" : u.role + ": ", V.link(u.iri, u.label)]));
      }
      let show = V.el("span", { text: "no position in the graph" });
      if (p.pos) {
        show = V.el("button", { type: "button", class: "small", text: "Show on map", "aria-label": "Show on map: " + p.label });
        show.addEventListener("click", function () {
          const d = V.localName(p.class) === "City" ? 0.6 : 0.03;
          fitBox([[p.pos.lon - d, p.pos.lat - d / 2], [p.pos.lon + d, p.pos.lat + d / 2]], true);
          const m = document.querySelector('a.marker[data-iri="' + p.place + '"]');
          if (m) m.focus();
        });
      }
      tbody.append(V.el("tr", {}, [
        V.el("td", {}, [V.link(p.place, p.label)]),
        V.el("td", { text: p.classLabel + (p.hqSite ? ", headquarters site" : "") + (p.plannedHq ? ", planned headquarters" : "") }),
        V.el("td", {}, [p.within ? V.link(p.within, p.withinLabel) : ""]),
        V.el("td", {}, [list.children.length ? list : ""]),
        V.el("td", {}, [p.wikidata ? V.el("a", { href: p.wikidata.replace("http://www.wikidata.org/entity/", "https://www.wikidata.org/wiki/"),
          rel: "external noopener", text: V.localName(p.wikidata) }) : ""]),
        V.el("td", {}, [show]),
      ]));
    }
  }

  function exportSvg() {
    const copy = svg.node().cloneNode(true);
    const style = document.createElementNS(V.SVGNS, "style");
    style.textContent = ".land{fill:#f4f1ea;stroke:#b9b2a3;stroke-width:.5px;vector-effect:non-scaling-stroke}" +
      ".graticule{fill:none;stroke:#d6e2ee;stroke-width:.5px;vector-effect:non-scaling-stroke}" +
      ".marker circle,.marker rect{stroke:#fff;stroke-width:1.5px}.City circle{fill:#2a5bb5}.Venue circle{fill:#d9730d}" +
      ".Region circle{fill:rgba(31,138,76,.15);stroke:#1f8a4c;stroke-dasharray:3 2}.hq rect{fill:#8a3ea8}" +
      ".planned-hq rect{fill:#fff;stroke:#8a3ea8;stroke-dasharray:2 2}.leader{stroke:#667;stroke-width:.8px}" +
      "text{font:11px system-ui,sans-serif;fill:#1d2330;paint-order:stroke;stroke:#fff;stroke-width:3px}";
    copy.prepend(style);
    return copy;
  }

  // The query's decimals arrive as strings; a place needs both to be drawn.
  function positionOf(p) {
    const lat = Number(p.lat), lon = Number(p.lon);
    return p.lat !== undefined && p.lon !== undefined && isFinite(lat) && isFinite(lon) ? { lat: lat, lon: lon } : null;
  }

  Promise.all([
    V.fetchQuery("places"),
    fetch(cfg.atlas).then(function (r) { return r.json(); }),
  ]).then(function ([res, world]) {
    performance.mark("cowkg:data");
    places = res.rows.map(function (p) { return Object.assign(p, { pos: positionOf(p) }); });
    const placed = draw(world);
    performance.mark("cowkg:drawn");
    controls(placed);
    fitBox(REGIONS.europe, false);
    performance.mark("cowkg:fitted");
    renderTable();
    V.downloads(exportSvg, "cowkg-map");
    const missing = places.length - placed.length;
    V.status(places.length + " places; " + placed.length + " drawn" + (missing ? ", " + missing + " without a position in the graph" : "") +
      " (" + placed.filter(function (p) { return p.pos.lon < -30; }).length + " outside Europe: use “All places”).");
    focusFromUrl(placed);
    V.ready({ places: places.length, markers: document.querySelectorAll("#map a.marker").length, unplaced: missing });
  }).catch(V.fail);

  window.cowkgMap = { labelBoxes: labelBoxes };

  // ?focus=<iri>: a place is zoomed to and marked; anything else, the places where the graph locates it.
  function focusFromUrl(placed) {
    const iri = new URLSearchParams(location.search).get("focus");
    if (!iri) return;
    let hits = placed.filter(function (p) { return p.place === iri; });
    let what = "";
    if (hits.length) what = hits[0].label;
    else {
      hits = placed.filter(function (p) { return uses(p).some(function (u) { return u.iri === iri; }); });
      const use = hits.length ? uses(hits[0]).find(function (u) { return u.iri === iri; }) : null;
      what = use ? use.label + " — " + hits.map(function (p) { return p.label; }).join(", ") : "";
    }
    if (!hits.length) {
      V.status("The graph locates nothing of " + iri + " on the map. " + document.querySelector(".view-status").textContent);
      return;
    }
    const box = boxOf(hits);
    const pad = hits.length === 1 ? 0.8 : 0;
    fitBox([[box[0][0] + 3 - pad, box[0][1] + 3 - pad], [box[1][0] - 3 + pad, box[1][1] - 3 + pad]], false);
    svg.selectAll("a.marker").classed("focused", function (p) { return hits.includes(p); });
    V.status("Showing " + what + " on the map.");
  }
})();
