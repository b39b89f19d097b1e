// Markdown for model output, which is untrusted: marked (GFM, raw HTML shown as text) -> DOMPurify
// with the allowlist in ollama_nb/_render/policy.json (the one the kernel's nh3 uses) -> math
// (KaTeX's MathML, sanitized on its own) -> highlight.js on the sanitized code's text.
// Nothing reaches the DOM unsanitized, and nothing in the result loads anything by itself.
//
//   import { renderMarkdown, setMarkdown } from "./markdown.js";
//   setMarkdown(el, "Hello **world**, $e^{i\\pi}+1=0$");
import { Marked, Tokenizer } from "marked";
import createDOMPurify from "dompurify";
import katex from "katex";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import plaintext from "highlight.js/lib/languages/plaintext";
import python from "highlight.js/lib/languages/python";
import sql from "highlight.js/lib/languages/sql";
import policy from "../ollama_nb/_render/policy.json";
import { LIMITS, TooDeep, capNote, deepNote, depthGuard, restNote, texOver } from "./caps.js";
import { h } from "./dom.js";
import { INVISIBLE, flag, markCode } from "./invisible.js";

for (const [name, lang] of Object.entries({ bash, javascript, json, markdown, plaintext, python, sql })) {
  hljs.registerLanguage(name, lang);
}

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

// ---------------------------------------------------------------- the policy (policy.json)

const TAG_ATTRS = policy.tags; // tag -> the attributes it may keep
const CLASS_NAME = new RegExp(policy.class_pattern);
const ALIGN = new Set(policy.align_values);
// What a browser drops from a URL before it reads the scheme ("java\tscript:" is javascript:).
const URL_NOISE = /[\u0000-\u0020\u007f]+/g;
const LINK = new RegExp(`^(?:${policy.url_schemes.map(escapeRe).join("|")}):`, "i");
const INLINE_IMAGE = new RegExp(`^data:(?:${policy.image_data_types.map(escapeRe).join("|")});base64,[a-z0-9+/=\\s]*$`, "i");

/** True when a link may keep this target: an absolute http(s)/mailto URL (the kernel's rule). */
export const linkOk = (href) => LINK.test(String(href).replace(URL_NOISE, ""));
/** True for an inline data:image/(png|jpeg|gif|webp) picture: the only image that may show. */
export const inlineImage = (src) => INLINE_IMAGE.test(String(src).trim());

// ---------------------------------------------------------------- math (KaTeX -> MathML)

// The MathML KaTeX writes, and nothing else: its output is sanitized on its own with these lists
// and put into slots the Markdown pass left, so no <math> or <svg> of the model's can survive.
const MATH_TAGS = ["math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace",
  "msup", "msub", "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr",
  "mtd", "mlabeledtr", "mstyle", "mpadded", "mphantom", "menclose", "merror"];
const MATH_ATTRS = ["xmlns", "display", "encoding", "mathvariant", "mathcolor", "mathbackground", "stretchy",
  "fence", "separator", "lspace", "rspace", "width", "height", "depth", "voffset", "accent", "accentunder",
  "columnalign", "columnlines", "columnspacing", "rowalign", "rowlines", "rowspacing", "columnspan",
  "rowspan", "displaystyle", "scriptlevel", "minsize", "maxsize", "movablelimits", "largeop", "symmetric",
  "linethickness", "notation", "frame", "framespacing", "equalrows", "equalcolumns", "side", "form"];

let slots = []; // KaTeX output of the render in progress, by slot number

// A formula past a cap: its source as code (in the form the kernel writes), and why.
function cappedTex(source, displayMode, why) {
  const raw = escapeHtml(displayMode ? `$$${source}$$` : `$${source}$`);
  const note = `<span class="onb-capped">${escapeHtml(capNote(why))}</span>`;
  return displayMode ? `<pre class="onb-math-source"><code>${raw}</code></pre>\n${note}\n` : `<code class="onb-math-source">${raw}</code> ${note}`;
}

function tex(source, displayMode, raw) {
  const why = texOver(source);
  if (why) return cappedTex(source, displayMode, why);
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

// ---------------------------------------------------------------- Markdown (marked)

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
  extensions: [blockMath, inlineMath],
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

// ---------------------------------------------------------------- DOMPurify

// Our own DOMPurify instances, so their hooks cannot leak into anyone else's sanitizer.
const purify = createDOMPurify(window);
const PURIFY = {
  ALLOWED_TAGS: Object.keys(TAG_ATTRS),
  ALLOWED_ATTR: [...new Set(Object.values(TAG_ATTRS).flat())],
  // DOMPurify tests every attribute value that is not "URI-safe" against this: the policy's schemes,
  // or a value without any scheme (the hook below then allows absolute http(s)/mailto links only).
  ALLOWED_URI_REGEXP: new RegExp(`^(?:(?:${policy.url_schemes.map(escapeRe).join("|")}):|[^a-z]|[a-z+.\\-]+(?:[^a-z+.\\-:]|$))`, "i"),
  ADD_URI_SAFE_ATTR: ["align", "start"],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  ALLOW_UNKNOWN_PROTOCOLS: false,
  ALLOW_SELF_CLOSE_IN_ATTR: false,
  SAFE_FOR_XML: true,
  WHOLE_DOCUMENT: false,
};
// Per tag, per value: what a global attribute allowlist cannot say.
purify.addHook("uponSanitizeAttribute", (node, data) => {
  const tag = node.nodeName.toLowerCase();
  const name = data.attrName;
  if (!(TAG_ATTRS[tag] || []).includes(name)) {
    data.keepAttr = false;
    return;
  }
  const value = data.attrValue;
  if (name === "class") {
    const kept = value.split(/\s+/).filter((c) => CLASS_NAME.test(c)).join(" ");
    if (kept) data.attrValue = kept;
    else data.keepAttr = false;
  } else if (name === "href") {
    data.keepAttr = linkOk(value);
  } else if (name === "src") {
    data.keepAttr = inlineImage(value); // only <img> has one in the policy
  } else if (name === "align") {
    data.keepAttr = ALIGN.has(value.toLowerCase());
  } else if (name === "start") {
    data.keepAttr = /^\d{1,9}$/.test(value);
  }
});
purify.addHook("afterSanitizeAttributes", (node) => {
  if (node.nodeName === "A") {
    node.setAttribute("target", policy.link_target);
    node.setAttribute("rel", policy.link_rel);
  }
});

// KaTeX's MathML: MathML tags and presentation attributes only (no href, no class, no style).
const mathPurify = createDOMPurify(window);
const MATH_PURIFY = {
  ALLOWED_TAGS: MATH_TAGS,
  ALLOWED_ATTR: MATH_ATTRS,
  ADD_URI_SAFE_ATTR: MATH_ATTRS, // plain values, none of them a URL
  ALLOWED_URI_REGEXP: /^$/,
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  RETURN_DOM_FRAGMENT: true,
};
// KaTeX caps the sizes of \rule and \kern (maxSize) but not \raisebox's shift: a length past
// maxSize (in em, roughly) is dropped, so nothing is drawn far from its formula.
const LENGTH_ATTRS = new Set(["width", "height", "depth", "voffset", "lspace", "rspace", "minsize", "maxsize"]);
const EM_PER = { em: 1, ex: 0.5, pt: 0.1, px: 1 / 16, mu: 1 / 18, "": 1 };
function lengthOk(value) {
  const m = /^\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*(em|ex|pt|px|mu|)\s*$/.exec(value);
  if (!m) return !/\d/.test(value); // a keyword (thin, infinity ...), never a number in another unit
  return Math.abs(parseFloat(m[1]) * EM_PER[m[2]]) <= LIMITS.katex_max_size;
}
mathPurify.addHook("uponSanitizeAttribute", (node, data) => {
  if (LENGTH_ATTRS.has(data.attrName) && !lengthOk(data.attrValue)) data.keepAttr = false;
});

// highlight.js output: <span class="hljs-…"> around escaped text, nothing else.
const codePurify = createDOMPurify(window);
codePurify.addHook("uponSanitizeAttribute", (node, data) => {
  if (data.attrName !== "class") data.keepAttr = false;
  else data.attrValue = data.attrValue.split(/\s+/).filter((c) => /^hljs-[a-z_-]{1,40}$/.test(c)).join(" ");
});
const CODE_PURIFY = { ALLOWED_TAGS: ["span"], ALLOWED_ATTR: ["class"] };

function fillMath(root, rendered) {
  for (const el of root.querySelectorAll("[class*='onb-slot-']")) {
    const m = /(?:^|\s)onb-slot-(\d+)(?:\s|$)/.exec(el.className);
    el.classList.remove(`onb-slot-${m ? m[1] : ""}`);
    const html = m ? rendered[Number(m[1])] : undefined;
    if (html !== undefined) el.replaceChildren(mathPurify.sanitize(html, MATH_PURIFY));
  }
}

function highlight(root) {
  for (const code of root.querySelectorAll("pre > code")) {
    const lang = /(?:^|\s)language-([\w+#.-]+)/.exec(code.className)?.[1];
    if (!lang || !hljs.getLanguage(lang)) continue;
    const html = hljs.highlight(code.textContent, { language: lang, ignoreIllegals: true }).value;
    // hljs escapes the text it wraps; sanitizing again costs little and makes that not matter.
    code.innerHTML = codePurify.sanitize(html, CODE_PURIFY);
    code.classList.add("hljs");
  }
}

// Code shows every character it holds: one that prints as nothing becomes a mark, and a block
// that held any is flagged (ollama_nb/_render/invisible.py does the same in the kernel).
function markInvisible(root) {
  for (const code of root.querySelectorAll("code")) {
    if (!INVISIBLE.test(code.textContent)) continue;
    INVISIBLE.lastIndex = 0;
    const count = markCode(code);
    const pre = code.parentElement;
    if (pre && pre.localName === "pre") pre.before(flag(count));
  }
}

// Markdown -> HTML (unsanitized): lists and quotes nested past the cap make the text its source.
function parse(text) {
  try {
    return marked.parse(text);
  } catch (err) {
    if (!(err instanceof TooDeep)) throw err;
    return `<div class="onb-capped">${escapeHtml(deepNote())}</div>\n<pre class="onb-source"><code>${escapeHtml(text)}</code></pre>\n`;
  }
}

/** Markdown -> sanitized HTML (a string), before math and highlighting: what the policy test
 * compares with the kernel's ``ollama_nb._render.model_html``. */
export function sanitizedMarkdown(text) {
  slots = [];
  return purify.sanitize(parse(String(text ?? "")), PURIFY);
}

/** Markdown -> a sanitized, highlighted DocumentFragment. */
export function renderMarkdownFragment(text) {
  slots = [];
  const html = parse(String(text ?? ""));
  const rendered = slots;
  slots = [];
  const frag = purify.sanitize(html, { ...PURIFY, RETURN_DOM_FRAGMENT: true });
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

// Past LIMITS.answer_chars an answer is not rendered: [the part that is, the note that says so or null].
function capped(text) {
  if (text.length <= LIMITS.answer_chars) return [text, null];
  return [text.slice(0, LIMITS.answer_chars), h("div", { class: "onb-capped", text: restNote(text.length - LIMITS.answer_chars) })];
}

/** Copy text to the clipboard; falls back to execCommand where the Clipboard API is missing
 * (plain-http Jupyter servers are not a secure context). Resolves to whether it worked. */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // permission denied or not focused: try the old way
  }
  const ta = h("textarea", { value: text, readonly: true, style: { position: "fixed", opacity: "0" } });
  document.body.append(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

/** Adds a "Copy" button to every <pre> under root (once), named for what it copies
 * ("Copy code block 2 (python)"): a screen reader's list of buttons must tell them apart. Copy
 * takes the text as shown, invisible characters as their marks, and says so. */
export function decorateCodeBlocks(root) {
  root.querySelectorAll("pre").forEach((pre, i) => {
    if (pre.querySelector(":scope > .onb-copy")) return;
    const lang = /(?:^|\s)language-([\w+#.-]+)/.exec(pre.querySelector("code")?.className || "")?.[1];
    const button = h("button", { type: "button", class: "onb-copy", title: "Copy to clipboard", text: "Copy",
                                 "aria-label": `Copy code block ${i + 1}${lang ? ` (${lang})` : ""}` });
    button.addEventListener("click", async (event) => {
      event.preventDefault();
      event.stopPropagation();
      const code = pre.querySelector("code");
      let text;
      if (code) {
        text = code.textContent;
      } else {
        const clone = pre.cloneNode(true);
        clone.querySelector(":scope > .onb-copy")?.remove();
        text = clone.textContent;
      }
      const ok = await copyText(text);
      const marks = pre.querySelector(".onb-invisible") ? " (with the ⟦U+…⟧ marks)" : "";
      button.textContent = ok ? `Copied${marks}` : "Copy failed";
      setTimeout(() => (button.textContent = "Copy"), 1500);
    });
    pre.prepend(button);
  });
}

/** Replace el's content with the rendered Markdown (sanitized) and decorate its code blocks. */
export function setMarkdown(el, text) {
  const [kept, note] = capped(String(text ?? ""));
  el.replaceChildren(renderMarkdownFragment(kept));
  if (note) el.append(note);
  decorateCodeBlocks(el);
}

// ---------------------------------------------------------------- a text that only grows

// Constructs whose meaning reaches back over a blank line into text before them: a reference
// definition changes links anywhere, and display math ($$, \[) may span blank lines. (The kernel's
// StreamRenderer, ollama_nb/_render/markdown.py, makes the same two exceptions.)
const REFERENCE = "]:";
const occurrences = (text, what) => text.split(what).length - 1;
const mathBalanced = (text) => occurrences(text, "$$") % 2 === 0 && occurrences(text, "\\[") === occurrences(text, "\\]");

/** Offset in `text` where its second-to-last top-level block starts (0: fewer than three blocks,
 * or marked's tokens do not add up to the text, so no cut can be trusted). */
function openBlocksStart(text) {
  if (!text.includes("\n")) return 0;
  let tokens;
  try {
    tokens = marked.lexer(text);
  } catch (err) {
    if (err instanceof TooDeep) return 0; // rendered whole, as its source
    throw err;
  }
  let total = 0;
  const starts = [];
  for (const t of tokens) {
    if (t.type !== "space") starts.push(total);
    total += t.raw.length;
  }
  if (total !== text.length || starts.length < 3) return 0;
  return starts[starts.length - 2];
}

/**
 * The rendered Markdown of a text that only grows (a streaming answer or its thinking) in `el`,
 * at the cost of its open end per update instead of the whole text.
 *
 * Top-level blocks before the last two are finished: CommonMark never reopens a closed block, and
 * only the block right before the last can still absorb what comes (a list the next item joins
 * across a blank line, a setext underline). Their DOM is kept; only the rest is parsed, sanitized
 * (the same DOMPurify policy, piece by piece), highlighted and decorated again. Where that would not
 * hold (a reference definition anywhere, display math left open in the finished part, a text that
 * is not the old one grown) it renders the whole text, so `el` always ends as `setMarkdown(el, text)`
 * would leave it.
 *
 *   const md = new MarkdownStream(el);
 *   md.set("# Title\n\nfir"); md.set("# Title\n\nfirst words");   // the heading is not redone
 */
export class MarkdownStream {
  constructor(el) {
    this.el = el;
    this.text = null; // what el shows (null: nothing set yet)
    this.done = ""; // the finished blocks' source, whose nodes stay in el...
    this.open = []; // ...followed by these nodes, of the rest: replaced on every update
    this.renders = 0; // updates that rendered something (tests count them)
  }

  /** Show `text`; returns false (and touches nothing) when it is what is shown already. */
  set(text) {
    text = String(text ?? "").replace(/\r\n?/g, "\n");
    if (text === this.text) return false;
    this.renders += 1;
    const [body, note] = capped(text);
    const whole = body.includes(REFERENCE);
    if (whole || this.text === null || !body.startsWith(this.done)) {
      this.el.replaceChildren();
      this.done = "";
    } else {
      for (const n of this.open) n.remove();
    }
    this.text = text;
    this.open = [];
    if (whole) {
      this.el.append(renderMarkdownFragment(body));
      this.open = [...this.el.childNodes];
    } else {
      let rest = body.slice(this.done.length);
      const cut = openBlocksStart(rest);
      if (cut > 0 && mathBalanced(rest.slice(0, cut))) {
        this.el.append(renderMarkdownFragment(rest.slice(0, cut)));
        this.done += rest.slice(0, cut);
        rest = rest.slice(cut);
      }
      const frag = renderMarkdownFragment(rest);
      this.open = [...frag.childNodes];
      this.el.append(frag);
    }
    if (note) {
      this.el.append(note);
      this.open.push(note);
    }
    decorateCodeBlocks(this.el);
    return true;
  }
}
