// Builds the widget bundles: one ES module (+ one stylesheet) per widget.
//
//   node build.mjs                  -> ../ollama_nb/_widgets/static/
//   node build.mjs --outdir DIR     -> DIR (tests/test_bundle.py builds into a temp dir and compares)
//   node build.mjs --watch
//
// The output is committed, so it must be byte-reproducible: no source maps, no legal comments,
// no path comments (minified), and nothing that depends on the machine or the time.
import * as esbuild from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf("--outdir");
const outdir = at >= 0 ? path.resolve(args[at + 1]) : path.join(here, "..", "ollama_nb", "_widgets", "static");

const options = {
  absWorkingDir: here,
  entryPoints: { chat: "chat.js", models: "models.js" },
  outdir,
  entryNames: "[name]",
  bundle: true,
  format: "esm",
  target: "es2020",
  platform: "browser",
  minify: true,
  sourcemap: false,
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
  // An import of a URL would reach for a CDN at run time; the bundle must be self-contained.
  external: [],
};

if (args.includes("--watch")) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log(`watching, writing to ${outdir}`);
} else {
  await esbuild.build(options);
}
