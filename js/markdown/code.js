// Code blocks after sanitizing: highlight.js colours (its spans sanitized again), characters that
// print as nothing shown as marks and flagged, and a Copy button on each block.
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import plaintext from "highlight.js/lib/languages/plaintext";
import python from "highlight.js/lib/languages/python";
import sql from "highlight.js/lib/languages/sql";
import { h } from "../dom.js";
import { INVISIBLE, flag, markCode } from "../invisible.js";
import { sanitizeCode } from "./sanitize.js";

for (const [name, lang] of Object.entries({ bash, javascript, json, markdown, plaintext, python, sql })) {
  hljs.registerLanguage(name, lang);
}

/** Colours every `pre > code` under root whose language highlight.js knows. */
export function highlight(root) {
  for (const code of root.querySelectorAll("pre > code")) {
    const lang = /(?:^|\s)language-([\w+#.-]+)/.exec(code.className)?.[1];
    if (!lang || !hljs.getLanguage(lang)) continue;
    const html = hljs.highlight(code.textContent, { language: lang, ignoreIllegals: true }).value;
    // hljs escapes the text it wraps; sanitizing again costs little and makes that not matter.
    code.innerHTML = sanitizeCode(html);
    code.classList.add("hljs");
  }
}

/** Code shows every character it holds: one that prints as nothing becomes a mark, and a block
 * that held any is flagged (ollama_nb/_render/invisible.py does the same in the kernel). */
export function markInvisible(root) {
  for (const code of root.querySelectorAll("code")) {
    if (!INVISIBLE.test(code.textContent)) continue;
    INVISIBLE.lastIndex = 0;
    const count = markCode(code);
    const pre = code.parentElement;
    if (pre && pre.localName === "pre") pre.before(flag(count));
  }
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
 * takes the text as shown, invisible characters as their marks, and says so. `first`: how many
 * code blocks come before root's (a part of an answer decorated before it is shown). */
export function decorateCodeBlocks(root, first = 0) {
  root.querySelectorAll("pre").forEach((pre, at) => {
    const i = first + at;
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
