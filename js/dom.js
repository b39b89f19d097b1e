// The one way our front ends make elements. Server and model strings go in as text
// (textContent, attributes, dataset); a property that could turn a string into markup, a handler
// or a URL (innerHTML, on*, src, href, ...) is refused outright, so no caller can do it by mistake.
// Markdown is the one exception, and it has its own sanitizer (markdown.js).
//
//   h("button", { class: "onb-copy", type: "button", title: "Copy", data: { act: "copy" } }, "Copy")

const UNSAFE_PROP = /^(on|innerHTML$|outerHTML$|srcdoc$|href$|src$|action$|formaction$|xlink:href$)/i;

/** An element with props (class, text, data, style, attributes, properties) and children (nodes or text). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (UNSAFE_PROP.test(k)) throw new Error(`h(): refusing to set ${k}`);
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k === "data") Object.assign(el.dataset, v);
    else if (k === "style") Object.assign(el.style, v);
    else if (k in el && typeof el[k] !== "function" && !k.startsWith("aria")) el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Text with `code` spans (error hints name commands): the spans become <code>, all as text. */
export const withCode = (tag, cls, text) =>
  h(tag, { class: cls }, String(text).split(/(`[^`\n]+`)/).filter(Boolean)
    .map((piece) => (piece.length > 2 && piece.startsWith("`") && piece.endsWith("`") ? h("code", { text: piece.slice(1, -1) }) : piece)));
