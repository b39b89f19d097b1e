// Characters that print as nothing (bidi controls, zero-width, other format and control characters,
// the fillers that look like a space), made visible in code, as the kernel does
// (ollama_nb/_render/invisible.py; the code points are policy.json's `invisible` ranges). The code
// a reader sees must be the code Copy takes: each such character shows as a mark (⟦U+202E⟧), which
// is what Copy copies, and the block is flagged.
import policy from "../ollama_nb/_render/policy.json";
import { h } from "./dom.js";

const hex = (code) => `\\u{${code}}`;
export const INVISIBLE = new RegExp(`[${policy.invisible.ranges.map(([a, b]) => `${hex(a)}-${hex(b)}`).join("")}]`, "gu");

const shown = (ch) => `⟦U+${ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}⟧`;

/** `text` with every invisible character replaced by its visible mark (plain text). */
export const mark = (text) => String(text).replace(INVISIBLE, shown);

/** Marks the invisible characters in the text under `code` (spans made with textContent);
 * returns how many there were. */
export function markCode(code) {
  let count = 0;
  const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) texts.push(n);
  for (const t of texts) {
    const pieces = t.data.split(new RegExp(`(${INVISIBLE.source})`, "u"));
    if (pieces.length === 1) continue;
    t.replaceWith(...pieces.map((p, i) => (i % 2 ? (count++, h("span", { class: "onb-invisible", text: shown(p) })) : p)));
  }
  return count;
}

/** The note above a code block that held invisible characters (the kernel's invisible.flag). */
export const flag = (count) =>
  h("div", { class: "onb-flag" },
    `⚠ This code holds ${count} invisible ${count === 1 ? "character" : "characters"} (bidi controls, zero-width or ` +
    "control characters), shown as ⟦U+…⟧ marks: what runs may differ from what it seems to say.");
