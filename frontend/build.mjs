// Copy the query UI's browser assets from node_modules into cowkg/web/static/vendor/ (gitignored),
// so the app serves them itself: no CDN, no request leaves the server's origin.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "cowkg", "web", "static", "vendor");
const assets = [
  ["@zazuko/yasgui/build/yasgui.min.js", "yasgui.min.js"],
  ["@zazuko/yasgui/build/yasgui.min.css", "yasgui.min.css"],
];

mkdirSync(out, { recursive: true });
const manifest = {};
for (const [src, dest] of assets) {
  copyFileSync(join(here, "node_modules", src), join(out, dest));
  const pkg = src.split("/").slice(0, 2).join("/");
  manifest[dest] = `${pkg}@${JSON.parse(readFileSync(join(here, "node_modules", pkg, "package.json"))).version}`;
}
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`frontend: copied ${assets.length} assets to ${out}`);
