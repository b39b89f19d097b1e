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

/**
 * How many formulas (and how much TeX) an answer, or a chat panel, may still have typeset: each
 * costs KaTeX and the layout a little, and a few hundred in one page froze it. Past the budget the
 * rest are shown as source, the first with a note that says why, the others without ("": said
 * once). `parent` (the panel's budget) is charged too. The kernel's TexBudget (caps.py) is the same.
 *
 *   const panel = TexBudget.panel(), answer = TexBudget.answer(panel);
 *   answer.take("x^2");   // null: typeset it (counted in both)
 *   const open = answer.part();   // a part rendered again and again: refund() it before each
 */
export class TexBudget {
  constructor(formulas, texChars, parent = null, what = "answer") {
    Object.assign(this, { formulas, texChars, parent, what, count: 0, chars: 0, said: false, saidOn: [] });
  }

  static answer(parent = null) {
    return new TexBudget(LIMITS.answer_formulas, LIMITS.answer_tex_chars, parent);
  }

  static panel() {
    return new TexBudget(LIMITS.transcript_formulas, LIMITS.transcript_tex_chars, null, "conversation");
  }

  /** A budget without limits of its own that charges this one: for a part that is rendered again. */
  part() {
    return new TexBudget(Infinity, Infinity, this);
  }

  /** What this budget took goes back to its parents, and the notes it said may be said again. */
  refund() {
    for (let b = this.parent; b; b = b.parent) {
      b.count -= this.count;
      b.chars -= this.chars;
    }
    for (const b of this.saidOn) b.said = false;
    Object.assign(this, { count: 0, chars: 0, said: false, saidOn: [] });
  }

  /** What this part took stays taken (its text is final): a later refund() leaves it to the parent. */
  keep() {
    this.parent.saidOn.push(...this.saidOn);
    Object.assign(this, { count: 0, chars: 0, saidOn: [] });
  }

  over(chars) {
    const spent = this.parent ? this.parent.over(chars) : null;
    if (spent) return spent;
    return this.count >= this.formulas || this.chars + chars > this.texChars ? this : null;
  }

  /** null: `tex` may be typeset (and is counted). Else why not, or "" once that was said. */
  take(tex) {
    const chars = [...tex].length; // code points, as the kernel counts
    const spent = this.over(chars);
    if (!spent) {
      for (let b = this; b; b = b.parent) {
        b.count += 1;
        b.chars += chars;
      }
      return null;
    }
    if (spent.said) return "";
    spent.said = true;
    this.saidOn.push(spent);
    return `comes after the first ${spent.count} formulas (${spent.chars.toLocaleString("en-US")} characters of TeX) of ` +
      `this ${spent.what}: the rest are shown as source, so that the page stays responsive`;
  }
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
