// Caps before typesetting and parsing, the same as the kernel's (ollama_nb/_render/caps.py, numbers
// in policy.json's `limits`): a formula, a nesting of lists and quotes, or an answer past one is
// shown as its source instead, and said so. KaTeX and the browser's layout of deep MathML or lists
// can freeze or crash the page; what we hand them is measured first.
import policy from "../ollama_nb/_render/policy.json";

export const LIMITS = policy.limits;

// A control word (\frac), a control symbol (\{, \\), or a brace: all that nesting is made of.
const TEX_TOKEN = /\\([A-Za-z]+|[\s\S])|([{}&])/g;
const OPENS = new Set(["left", "begin"]);
const CLOSES = new Set(["right", "end"]);
// A TeX length (\raisebox{40em}, \rule{500em}{1pt}, \kern-30em) and roughly how many em each unit is.
const LENGTH = /([0-9]*\.?[0-9]+)\s*(em|ex|pt|pc|bp|dd|cc|px|mu|cm|mm|in)(?![A-Za-z])/g;
const EM_PER = { em: 1, ex: 0.5, pt: 0.1, pc: 1.2, bp: 0.1, dd: 0.107, cc: 1.28, px: 0.1, mu: 1 / 18, cm: 2.85, mm: 0.285, in: 7.2 };

/** Why `tex` must not be typeset (its size, nesting or matrix cells past a cap), or null. */
export function texOver(tex) {
  const chars = [...tex].length;
  if (chars > LIMITS.tex_chars) return `has ${chars} characters, past the cap of ${LIMITS.tex_chars}`;
  for (const [, number, unit] of tex.matchAll(LENGTH)) {
    if (parseFloat(number) * EM_PER[unit] > LIMITS.katex_max_size) return `sets a length of ${number}${unit}, past the cap of ${LIMITS.katex_max_size}em`;
  }
  let depth = 0;
  let deepest = 0;
  let cells = 1;
  for (const [, word, brace] of tex.matchAll(TEX_TOKEN)) {
    if (brace === "{" || OPENS.has(word)) deepest = Math.max(deepest, ++depth);
    else if (brace === "}" || CLOSES.has(word)) depth -= 1;
    else if (brace === "&" || word === "\\") cells += 1;
  }
  if (deepest > LIMITS.tex_depth) return `nests ${deepest} deep, past the cap of ${LIMITS.tex_depth}`;
  if (cells > LIMITS.tex_cells) return `has ${cells} cells, past the cap of ${LIMITS.tex_cells}`;
  return null;
}

/** Thrown by the Markdown tokenizer once lists and quotes nest past the cap. */
export class TooDeep extends Error {}

/** marked tokenizers for lists and quotes that count how deep they nest: marked lexes a list's or a
 * quote's content (calling these again) only once it has matched it, so entering one with more
 * than the cap open means one more container exists, and the text is shown as source instead. */
export function depthGuard(base) {
  let depth = 0;
  const guarded = (name) =>
    function guard(src) {
      if (depth >= LIMITS.block_depth + 1) throw new TooDeep();
      depth += 1;
      try {
        return base[name].call(this, src);
      } finally {
        depth -= 1;
      }
    };
  return { list: guarded("list"), blockquote: guarded("blockquote") };
}

export const capNote = (why) => `(formula not typeset: it ${why})`;
export const deepNote = () => `Shown as source: its lists or quotes nest more than ${LIMITS.block_depth} deep.`;
export const restNote = (rest) =>
  `The answer goes on for ${rest.toLocaleString("en-US")} more characters, kept as plain text only: ` +
  `past ${LIMITS.answer_chars.toLocaleString("en-US")} characters an answer is not rendered.`;
