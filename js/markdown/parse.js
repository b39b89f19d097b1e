// Markdown -> HTML (not yet sanitized) by marked: GFM, raw HTML shown as text, lists and quotes
// nested past the cap shown as source, links and pictures held to the kernel's rules.
import { Marked, Tokenizer } from "marked";
import { TooDeep, deepNote, depthGuard } from "../caps.js";
import { escapeHtml } from "./escape.js";
import { mathExtensions } from "./math.js";
import { inlineImage, linkOk } from "./policy.js";

// markdown-it's validateLink, which the kernel's parser applies: a link to one of these schemes is
// no link at all (its source stays text), except inline pictures.
const BAD_PROTOCOL = /^(vbscript|javascript|file|data):/;
const GOOD_DATA = /^data:image\/(gif|png|jpeg|webp);/;
const decoder = document.createElement("textarea");
function parserAccepts(href) {
  decoder.innerHTML = String(href ?? ""); // an inert element: only decodes character references
  const url = decoder.value.trim().toLowerCase();
  return BAD_PROTOCOL.test(url) ? GOOD_DATA.test(url) : true;
}

const marked = new Marked({ gfm: true, breaks: false, async: false });
marked.use({
  extensions: mathExtensions,
  // Raw HTML is off, as in the kernel's markdown-it: no HTML block or tag token is ever made, so
  // "<img onerror=...>" is a paragraph of text that the renderer escapes.
  tokenizer: {
    html: () => undefined,
    tag: () => undefined,
    ...depthGuard(Tokenizer.prototype), // lists and quotes nest at most LIMITS.block_depth deep
  },
  renderer: {
    html: ({ text }) => escapeHtml(text),
    checkbox: ({ checked }) => (checked ? "☑ " : "☐ "),
    // A link the kernel's parser refuses stays the text the model wrote, as it does there.
    link(token) {
      if (parserAccepts(token.href)) return false; // marked's own rendering
      const inner = this.parser.parseInline(token.tokens);
      const { raw, text } = token;
      if (raw.startsWith("[" + text + "]")) return `[${inner}]${escapeHtml(raw.slice(text.length + 2))}`;
      return escapeHtml(raw);
    },
    // A picture loads only from the answer's own bytes; any other becomes a visible link (or,
    // without a usable scheme, its alt text), so no server learns that the answer was read.
    image({ href, title, text }) {
      const alt = text || "";
      if (inlineImage(href)) {
        return `<img src="${escapeHtml(href)}" alt="${escapeHtml(alt)}"${title ? ` title="${escapeHtml(title)}"` : ""}>`;
      }
      const label = escapeHtml(`🖼 ${alt || "image"}`);
      return linkOk(href) ? `<a class="onb-image-link" href="${escapeHtml(href)}">${label}</a>` : label;
    },
  },
});

/** Markdown -> HTML (unsanitized): lists and quotes nested past the cap make the text its source
 * (with `part`, a piece of a longer text: null instead, as the whole text is then shown so). */
export function parse(text, part = false) {
  try {
    return marked.parse(text);
  } catch (err) {
    if (!(err instanceof TooDeep)) throw err;
    if (part) return null;
    return `<div class="onb-capped">${escapeHtml(deepNote())}</div>\n<pre class="onb-source"><code>${escapeHtml(text)}</code></pre>\n`;
  }
}

/** marked's top-level tokens of `text`, or null when its lists or quotes nest past the cap (it is
 * then rendered whole, as its source). */
export function lex(text) {
  try {
    return marked.lexer(text);
  } catch (err) {
    if (err instanceof TooDeep) return null;
    throw err;
  }
}
