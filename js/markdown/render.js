// A whole Markdown text -> sanitized DOM: parse (marked), sanitize (DOMPurify, policy.json), fill
// the formulas' slots (KaTeX MathML, sanitized on its own), highlight and mark code, and the cap
// on an answer's length (past it, the rest is plain text and a note says so). Each render's
// formulas are charged to a TexBudget: an answer's own, unless the caller brings one.
import { LIMITS, TexBudget, restNote } from "../caps.js";
import { h } from "../dom.js";
import { decorateCodeBlocks, highlight, markInvisible } from "./code.js";
import { beginMath, fillMath, takeMath } from "./math.js";
import { parse } from "./parse.js";
import { sanitizeFragment, sanitizeHtml } from "./sanitize.js";

/** Markdown -> sanitized HTML (a string), before math and highlighting: what the policy test
 * compares with the kernel's ``ollama_nb._render.model_html``. */
export function sanitizedMarkdown(text) {
  beginMath(TexBudget.answer());
  return sanitizeHtml(parse(String(text ?? "")));
}

/** Markdown -> a sanitized, highlighted DocumentFragment (with `part`, of a piece of a longer
 * text: null when it nests too deep, since the whole text is then shown as its source), its
 * formulas charged to `budget`. */
export function renderMarkdownFragment(text, part = false, budget = TexBudget.answer()) {
  beginMath(budget);
  const html = parse(String(text ?? ""), part);
  const rendered = takeMath();
  if (html === null) return null;
  const frag = sanitizeFragment(html);
  fillMath(frag, rendered);
  highlight(frag);
  markInvisible(frag);
  return frag;
}

/** Markdown -> sanitized HTML string. */
export function renderMarkdown(text) {
  const div = document.createElement("div");
  div.append(renderMarkdownFragment(text));
  return div.innerHTML;
}

/** Past LIMITS.answer_chars an answer is not rendered: [the part that is, the note that says so or null]. */
export function capped(text) {
  if (text.length <= LIMITS.answer_chars) return [text, null];
  return [text.slice(0, LIMITS.answer_chars), h("div", { class: "onb-capped", text: restNote(text.length - LIMITS.answer_chars) })];
}

/** Replace el's content with the rendered Markdown (sanitized) and decorate its code blocks. */
export function setMarkdown(el, text) {
  const [kept, note] = capped(String(text ?? ""));
  el.replaceChildren(renderMarkdownFragment(kept));
  if (note) el.append(note);
  decorateCodeBlocks(el);
}
