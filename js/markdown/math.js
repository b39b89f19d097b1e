// Math in Markdown: marked extensions for $…$, \(…\), $$…$$ and \[…\], typeset by KaTeX as MathML.
// The Markdown pass leaves an empty slot per formula; the MathML, sanitized on its own, fills it
// after the Markdown's HTML is sanitized (fillMath). A formula past a cap (caps.js), or past its
// answer's or panel's budget of formulas (TexBudget), stays source.
import katex from "katex";
import { LIMITS, TexBudget, capNote, texOver } from "../caps.js";
import { escapeHtml } from "./escape.js";
import { sanitizeMath } from "./sanitize.js";

let slots = []; // KaTeX output of the render in progress, by slot number
let budget = TexBudget.answer(); // what the render in progress may still typeset

/** Starts a render whose formulas are charged to `texBudget`: slots from an earlier one are dropped. */
export function beginMath(texBudget) {
  slots = [];
  budget = texBudget;
}

/** Ends a render: the MathML of its slots, by number. */
export function takeMath() {
  const rendered = slots;
  slots = [];
  return rendered;
}

// A formula past a cap: its source as code (in the form the kernel writes), and why ("": no
// note, it was said before).
function cappedTex(source, displayMode, why) {
  const raw = escapeHtml(displayMode ? `$$${source}$$` : `$${source}$`);
  const note = why ? `<span class="onb-capped">${escapeHtml(capNote(why))}</span>` : "";
  if (displayMode) return `<pre class="onb-math-source"><code>${raw}</code></pre>\n${note}\n`;
  return `<code class="onb-math-source">${raw}</code>` + (note ? ` ${note}` : "");
}

function tex(source, displayMode, raw) {
  const why = texOver(source) ?? budget.take(source);
  if (why !== null) return cappedTex(source, displayMode, why);
  let html;
  try {
    html = katex.renderToString(source, {
      displayMode,
      output: "mathml",
      throwOnError: true,
      strict: "ignore",
      trust: false, // \href, \url, \htmlClass ... stay inert text
      maxExpand: LIMITS.katex_max_expand,
      maxSize: LIMITS.katex_max_size, // in em: \raisebox{40em} cannot reach other messages
    });
  } catch {
    // A formula KaTeX cannot parse is shown as the model wrote it, delimiters included (in the
    // same wrapper the kernel's MathJax input uses, so both sides keep the same elements).
    const tag = displayMode ? "div" : "span";
    return `<${tag} class="${displayMode ? "onb-math-display" : "onb-math"} onb-math-error">${escapeHtml(raw)}</${tag}>`;
  }
  slots.push(html);
  const tag = displayMode ? "div" : "span";
  return `<${tag} class="${displayMode ? "onb-math-display" : "onb-math"} onb-slot-${slots.length - 1}"></${tag}>`;
}

// $$…$$ and \[…\] on lines of their own.
const blockMath = {
  name: "blockMath",
  level: "block",
  start(src) {
    const m = /^ {0,3}(?:\$\$|\\\[)/m.exec(src);
    return m ? m.index : undefined;
  },
  tokenizer(src) {
    const m = /^ {0,3}(?:\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\])[ \t]*(?:\n+|$)/.exec(src);
    if (m) return { type: "blockMath", raw: m[0], text: (m[1] ?? m[2]).trim() };
    return undefined;
  },
  renderer(token) {
    return tex(token.text, true, token.raw.trim()) + "\n";
  },
};

// $…$, \(…\) inline; $$…$$ and \[…\] inside a paragraph are display math.
// "$5 and $10" stays text: the opening $ must not be followed, nor the closing $ preceded, by
// white space, and the closing $ must not be followed by a digit (as in pandoc).
const INLINE = [
  [/^\$\$([\s\S]+?)\$\$/, true],
  [/^\\\[([\s\S]+?)\\\]/, true],
  [/^\\\(([\s\S]+?)\\\)/, false],
  [/^\$(?![\s$])((?:\\.|[^\\$\n])+?)(?<!\s)\$(?!\d)/, false],
];
const inlineMath = {
  name: "inlineMath",
  level: "inline",
  start(src) {
    const i = src.search(/\$|\\\(|\\\[/);
    return i < 0 ? undefined : i;
  },
  tokenizer(src) {
    for (const [re, display] of INLINE) {
      const m = re.exec(src);
      if (m) return { type: "inlineMath", raw: m[0], text: m[1].trim(), display };
    }
    return undefined;
  },
  renderer(token) {
    return tex(token.text, token.display, token.raw);
  },
};

/** The marked extensions that make formulas into slots. */
export const mathExtensions = [blockMath, inlineMath];

/** Puts each slot's MathML (sanitized) into its element under `root`. */
export function fillMath(root, rendered) {
  for (const el of root.querySelectorAll("[class*='onb-slot-']")) {
    const m = /(?:^|\s)onb-slot-(\d+)(?:\s|$)/.exec(el.className);
    el.classList.remove(`onb-slot-${m ? m[1] : ""}`);
    const html = m ? rendered[Number(m[1])] : undefined;
    if (html !== undefined) el.replaceChildren(sanitizeMath(html));
  }
}
