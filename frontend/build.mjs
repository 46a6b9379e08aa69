// Copy the browser assets of the query UI and the analyst views from node_modules into cowkg/web/static/vendor/ (gitignored),
// so the app serves them itself: no CDN, no request leaves the server's origin.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "cowkg", "web", "static", "vendor");
const assets = [
  ["@zazuko/yasgui/build/yasgui.min.js", "yasgui.min.js"],
  ["@zazuko/yasgui/build/yasgui.min.css", "yasgui.min.css"],
  // The analyst views (/timeline, /attendance, /graph, /map): only the dist files they load.
  ["vis-timeline/standalone/umd/vis-timeline-graph2d.min.js", "vis-timeline/vis-timeline-graph2d.min.js"],
  ["vis-timeline/styles/vis-timeline-graph2d.min.css", "vis-timeline/vis-timeline-graph2d.min.css"],
  ["d3/dist/d3.min.js", "d3/d3.min.js"],
  ["@observablehq/plot/dist/plot.umd.min.js", "plot/plot.umd.min.js"],
  ["cytoscape/dist/cytoscape.min.js", "cytoscape/cytoscape.min.js"],
  // The entity graph's layout: fCoSE (force-directed, label-aware), a UMD chain layout-base -> cose-base -> fcose.
  ["layout-base/layout-base.js", "cytoscape-fcose/layout-base.js"],
  ["cose-base/cose-base.js", "cytoscape-fcose/cose-base.js"],
  ["cytoscape-fcose/cytoscape-fcose.js", "cytoscape-fcose/cytoscape-fcose.js"],
  ["topojson-client/dist/topojson-client.min.js", "topojson-client/topojson-client.min.js"],
  ["world-atlas/countries-50m.json", "world-atlas/countries-50m.json"],
  // Accessibility checks: the browser tests inject it from here (same origin, so the pages' CSP allows it).
  ["axe-core/axe.min.js", "axe-core/axe.min.js"],
];

mkdirSync(out, { recursive: true });
const manifest = {};
for (const [src, dest] of assets) {
  mkdirSync(dirname(join(out, dest)), { recursive: true });
  copyFileSync(join(here, "node_modules", src), join(out, dest));
  const pkg = src.split("/").slice(0, src.startsWith("@") ? 2 : 1).join("/");
  manifest[dest] = `${pkg}@${JSON.parse(readFileSync(join(here, "node_modules", pkg, "package.json"))).version}`;
}
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`frontend: copied ${assets.length} assets to ${out}`);
