// Builds web/dist from web/src: one esbuild run (ES modules, a shared chunk for
// libsodium) and the static files copied. No CDN: everything the page loads is here.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] ? process.argv[2] : join(here, "dist");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  // envelope.js and keys.js are entry points of their own so that the browser tests
  // import them as modules (same origin, allowed by the CSP) without a test-only page
  // (uploader.js: the worker that sends one part of a direct upload, loaded by URL)
  entryPoints: ["src/app.js", "src/envelope.js", "src/keys.js", "src/save.js", "src/digest.js", "src/uploader.js"].map((p) =>
    join(here, p),
  ),
  bundle: true,
  splitting: true,
  format: "esm",
  target: "es2022",
  outdir: out,
  chunkNames: "chunks/[name]-[hash]",
  minify: true,
  sourcemap: false,
  legalComments: "linked",
  logLevel: "warning",
});
for (const file of ["index.html", "style.css"]) cpSync(join(here, "src", file), join(out, file));
console.log(`web page built in ${out}`);
