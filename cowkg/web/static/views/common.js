// Shared helpers of the analyst views: fetch a named query's results, parse the "label <iri>" lists
// the queries build, link entities to their pages, report progress, and download the picture as
// SVG or PNG. Everything is fetched from this server (no CDN, no other origin).
(function () {
  "use strict";
  const COWR = "https://w3id.org/cowkg/id/";
  const SVGNS = "http://www.w3.org/2000/svg";
  const config = JSON.parse(document.getElementById("view-config").textContent);
  const statusLine = document.querySelector(".view-status");

  // The value of each binding (IRIs and literals alike), keyed by variable; unbound → undefined.
  function simplify(json) {
    return json.results.bindings.map(function (b) {
      const row = {};
      for (const k of Object.keys(b)) {
        const t = b[k];
        row[k] = t.datatype === "http://www.w3.org/2001/XMLSchema#boolean" ? t.value === "true"
          : t.datatype === "http://www.w3.org/2001/XMLSchema#integer" ? Number(t.value) : t.value;
      }
      return row;
    });
  }

  // Rows of a named view query (queries/views/<name>.rq), with optional parameters (iri=...).
  async function fetchQuery(name, params) {
    const base = config.queries[name] ? config.queries[name].api : "/api/views/" + name;
    const url = new URL(base, location.href);
    for (const [k, v] of Object.entries(params || {})) url.searchParams.set(k, v);
    const resp = await fetch(url, { headers: { Accept: "application/sparql-results+json" } });
    if (!resp.ok) {
      let message = resp.status + " " + resp.statusText;
      try { message = (await resp.json()).message || message; } catch (e) { /* not JSON */ }
      throw new Error("query " + name + ": " + message);
    }
    const json = await resp.json();
    return { rows: simplify(json), variables: json.head.vars, truncated: resp.headers.get("X-Cowkg-Truncated") };
  }

  // "label <iri>" lines (GROUP_CONCAT in the view queries) → [{label, iri, extra}]; "role|label <iri>" too.
  function entries(text) {
    if (!text) return [];
    return text.split("\n").filter(Boolean).map(function (line) {
      const m = /^(?:([^|<]*)\|)?(.*) <([^<>]+)>$/.exec(line);
      return m ? { role: m[1] || "", label: m[2], iri: m[3] } : { role: "", label: line, iri: "" };
    }).sort(function (a, b) { return a.label.localeCompare(b.label); });
  }

  function pageUrl(iri) {
    if (iri.startsWith(COWR) && /^[A-Za-z0-9][A-Za-z0-9._~-]*$/.test(iri.slice(COWR.length))) {
      return "/page/" + iri.slice(COWR.length);
    }
    return "/page?iri=" + encodeURIComponent(iri);
  }

  function localName(iri) { return (iri || "").replace(/^.*[#/]/, ""); }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of [].concat(children || [])) {
      if (c !== null && c !== undefined) node.append(c);
    }
    return node;
  }

  function link(iri, label, cls) {
    return el("a", { href: pageUrl(iri), class: cls, title: iri, text: label || localName(iri) });
  }

  // A comma-separated list of entity links.
  function links(list) {
    const span = el("span");
    list.forEach(function (e, i) {
      if (i) span.append(", ");
      span.append(e.iri ? link(e.iri, e.label) : e.label);
    });
    return span;
  }

  function status(text) { if (statusLine) statusLine.textContent = text; }

  // Signal the picture is drawn: bench/views_render.py and the browser tests wait for this.
  function ready(counts) {
    window.cowkgViewReady = { ms: performance.now(), counts: counts };
    document.body.dataset.viewReady = "true";
    document.dispatchEvent(new CustomEvent("cowkg:view-ready", { detail: window.cowkgViewReady }));
  }

  function fail(err) {
    status("Could not draw the view: " + err.message);
    document.body.dataset.viewError = err.message;
    throw err;
  }

  function save(blob, filename) {
    const a = el("a", { href: URL.createObjectURL(blob), download: filename });
    document.body.append(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  function svgString(svg) {
    const copy = svg.cloneNode(true);
    copy.setAttribute("xmlns", SVGNS);
    copy.setAttribute("xmlns:xlink", "http://www.w3.org/1999/xlink");
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(copy);
  }

  // An SVG element → PNG blob (drawn at 2x on a canvas; everything is same-origin, so it is not tainted).
  function svgToPng(svg) {
    return new Promise(function (resolve, reject) {
      const w = Number(svg.getAttribute("width")) || svg.getBoundingClientRect().width;
      const h = Number(svg.getAttribute("height")) || svg.getBoundingClientRect().height;
      const img = new Image();
      const url = URL.createObjectURL(new Blob([svgString(svg)], { type: "image/svg+xml" }));
      img.onload = function () {
        const canvas = el("canvas", { width: Math.ceil(w * 2), height: Math.ceil(h * 2) });
        const ctx = canvas.getContext("2d");
        ctx.fillStyle = "#fff";
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.scale(2, 2);
        ctx.drawImage(img, 0, 0, w, h);
        URL.revokeObjectURL(url);
        canvas.toBlob(resolve, "image/png");
      };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("could not render the SVG")); };
      img.src = url;
    });
  }

  // Draw the boxes and texts of an HTML rendering (the timeline's items, a table's cells) as SVG:
  // every element matched by `selector` becomes a rectangle with its background and border colours,
  // and its own text a <text> at the same place.
  // Elements inside `clip` (e.g. the timeline's scrolling panel) are clipped to its box, as on screen.
  function domToSvg(root, selector, title, clip) {
    const box = root.getBoundingClientRect();
    const svg = document.createElementNS(SVGNS, "svg");
    svg.setAttribute("width", Math.ceil(box.width));
    svg.setAttribute("height", Math.ceil(box.height) + 24);
    svg.setAttribute("viewBox", "0 0 " + Math.ceil(box.width) + " " + (Math.ceil(box.height) + 24));
    svg.setAttribute("font-family", "system-ui, sans-serif");
    let parent = svg;
    const add = function (tag, attrs, text) {
      const n = document.createElementNS(SVGNS, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      if (text) n.textContent = text;
      parent.append(n);
      return n;
    };
    add("rect", { x: 0, y: 0, width: "100%", height: "100%", fill: "#fff" });
    add("text", { x: 4, y: 16, "font-size": 13, "font-weight": 600 }, title || document.title);
    let clipped = null;
    if (clip) {
      const c = clip.getBoundingClientRect();
      const path = add("clipPath", { id: "cowkg-clip" });
      const r = document.createElementNS(SVGNS, "rect");
      for (const [k, v] of Object.entries({ x: c.left - box.left, y: c.top - box.top + 24, width: c.width, height: c.height })) r.setAttribute(k, v);
      path.append(r);
      clipped = add("g", { "clip-path": "url(#cowkg-clip)" });
    }
    for (const node of root.querySelectorAll(selector)) {
      const r = node.getBoundingClientRect();
      if (r.width < 1 || r.height < 1 || r.right < box.left || r.left > box.right ||
          r.bottom < box.top || r.top > box.bottom) continue;
      parent = clipped && clip.contains(node) ? clipped : svg;
      const cs = getComputedStyle(node);
      const x = r.left - box.left, y = r.top - box.top + 24;
      const bg = cs.backgroundColor, border = cs.borderTopColor;
      const hasBg = bg && bg !== "transparent" && !/rgba\(.*,\s*0\)$/.test(bg);
      const hasBorder = parseFloat(cs.borderTopWidth) > 0 && cs.borderTopStyle !== "none";
      if (hasBg || hasBorder) {
        const rect = add("rect", { x: x, y: y, width: r.width, height: r.height, fill: hasBg ? bg : "none",
          stroke: hasBorder ? border : "none" });
        if (cs.borderTopStyle === "dashed") rect.setAttribute("stroke-dasharray", "4 2");
      }
      const fs = parseFloat(cs.fontSize) || 12;
      const room = Math.max(1, Math.floor((r.width - 4) / (0.55 * fs)));
      // Text only on the innermost matched elements (a row's cells carry its text, not the row).
      let text = node.querySelector(selector) ? "" : (node.innerText || node.textContent).replace(/\s+/g, " ").trim();
      if (text.length > room) text = text.slice(0, Math.max(1, room - 1)) + "…";
      if (text) {
        const t = add("text", { x: x + (parseFloat(cs.paddingLeft) || 2), y: y + Math.min(r.height, fs + 4) - 3,
          "font-size": fs, fill: cs.color }, text);
        if (cs.fontStyle === "italic") t.setAttribute("font-style", "italic");
      }
    }
    return svg;
  }

  // Wire the SVG and PNG buttons to a function that returns the picture as an SVG element.
  function downloads(makeSvg, basename, makePng) {
    const svgButton = document.querySelector(".download-svg");
    const pngButton = document.querySelector(".download-png");
    if (svgButton) svgButton.addEventListener("click", function () {
      save(new Blob([svgString(makeSvg())], { type: "image/svg+xml" }), basename + ".svg");
    });
    if (pngButton) pngButton.addEventListener("click", async function () {
      const blob = makePng ? await makePng() : await svgToPng(makeSvg());
      save(blob, basename + ".png");
    });
  }

  // Sortable table headers: a button in each <th data-sort>; aria-sort says the current order.
  function sortable(table, sortBy) {
    table.querySelectorAll("th[data-sort]").forEach(function (th) {
      const button = el("button", { type: "button", class: "sort", text: th.textContent });
      th.textContent = "";
      th.append(button);
      button.addEventListener("click", function () {
        const dir = th.getAttribute("aria-sort") === "descending" ? "ascending" : "descending";
        table.querySelectorAll("th[aria-sort]").forEach(function (o) { o.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir);
        sortBy(th.dataset.sort, dir);
      });
    });
  }

  window.cowkgViews = { config, fetchQuery, entries, pageUrl, localName, el, link, links, status, ready, fail,
    save, svgString, svgToPng, domToSvg, downloads, sortable, COWR, SVGNS };
})();
