// Markdown for model output, which is untrusted: marked (GFM) -> math (KaTeX, MathML output)
// -> DOMPurify -> highlight.js on the sanitized code's text. Nothing reaches the DOM unsanitized.
//
//   import { renderMarkdown, setMarkdown } from "./markdown.js";
//   setMarkdown(el, "Hello **world**, $e^{i\\pi}+1=0$");
import { Marked } from "marked";
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

for (const [name, lang] of Object.entries({ bash, javascript, json, markdown, plaintext, python, sql })) {
  hljs.registerLanguage(name, lang);
}

const escapeHtml = (s) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

// MathML output needs no fonts and no stylesheet: Chromium and Firefox render <math> natively.
function tex(source, displayMode, raw) {
  try {
    return katex.renderToString(source, {
      displayMode,
      output: "mathml",
      throwOnError: true,
      strict: "ignore",
      trust: false,
      maxExpand: 1000,
      maxSize: 50,
    });
  } catch {
    // A formula KaTeX cannot parse is shown as the model wrote it, delimiters included.
    return `<code class="onb-math-error">${escapeHtml(raw)}</code>`;
  }
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
    return `<div class="onb-math-display">${tex(token.text, true, token.raw.trim())}</div>\n`;
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

const marked = new Marked({ gfm: true, breaks: false, async: false });
marked.use({ extensions: [blockMath, inlineMath] });

// Our own DOMPurify instance, so its hook cannot leak into anyone else's sanitizer.
const purify = createDOMPurify(window);
purify.addHook("afterSanitizeAttributes", (node) => {
  if (node.nodeName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
  // A model's image would make the browser fetch any URL it names (a beacon that could carry the
  // conversation in its query string). Only inline data: images load; others show their alt text.
  if (node.nodeName === "IMG" && !/^data:image\//i.test(node.getAttribute("src") || "")) {
    const alt = node.getAttribute("alt") || "image";
    node.replaceWith(document.createTextNode(`[${alt}]`));
  }
});
const PURIFY = {
  USE_PROFILES: { html: true, mathMl: true },
  // KaTeX wraps its MathML in <semantics> with the TeX source in an <annotation>, which
  // DOMPurify's MathML profile leaves out; without them the TeX source would show as text.
  ADD_TAGS: ["semantics", "annotation"],
  // Untrusted text must not restyle or overlay the notebook, nor post forms.
  FORBID_TAGS: ["style", "form"],
  FORBID_ATTR: ["style"],
};

function highlight(root) {
  for (const code of root.querySelectorAll("pre > code")) {
    const lang = /(?:^|\s)language-([\w+#.-]+)/.exec(code.className)?.[1];
    if (!lang || !hljs.getLanguage(lang)) continue;
    const html = hljs.highlight(code.textContent, { language: lang, ignoreIllegals: true }).value;
    // hljs escapes the text it wraps; sanitizing again costs little and makes that not matter.
    code.innerHTML = purify.sanitize(html, PURIFY);
    code.classList.add("hljs");
  }
}

/** Markdown -> a sanitized, highlighted DocumentFragment. */
export function renderMarkdownFragment(text) {
  const html = marked.parse(String(text ?? ""));
  const frag = purify.sanitize(html, { ...PURIFY, RETURN_DOM_FRAGMENT: true });
  highlight(frag);
  return frag;
}

/** Markdown -> sanitized HTML string. */
export function renderMarkdown(text) {
  const div = document.createElement("div");
  div.append(renderMarkdownFragment(text));
  return div.innerHTML;
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
  const ta = document.createElement("textarea");
  ta.value = text;
  ta.setAttribute("readonly", "");
  ta.style.position = "fixed";
  ta.style.opacity = "0";
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

/** Adds a "Copy" button to every <pre> under root (once). */
export function decorateCodeBlocks(root) {
  for (const pre of root.querySelectorAll("pre")) {
    if (pre.querySelector(":scope > .onb-copy")) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "onb-copy";
    button.textContent = "Copy";
    button.title = "Copy to clipboard";
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
      button.textContent = ok ? "Copied" : "Copy failed";
      setTimeout(() => (button.textContent = "Copy"), 1500);
    });
    pre.prepend(button);
  }
}

/** Replace el's content with the rendered Markdown (sanitized) and decorate its code blocks. */
export function setMarkdown(el, text) {
  el.replaceChildren(renderMarkdownFragment(text));
  decorateCodeBlocks(el);
}
