// DOMPurify, three ways: the Markdown's HTML against policy.json, KaTeX's MathML against the
// MathML KaTeX writes, highlight.js's spans against their classes. Our own instances, so their
// hooks cannot leak into anyone else's sanitizer.
import createDOMPurify from "dompurify";
import { LIMITS } from "../caps.js";
import { ALIGN, CLASS_NAME, SCHEMES, TAG_ATTRS, inlineImage, linkOk, policy } from "./policy.js";

const purify = createDOMPurify(window);
const PURIFY = {
  ALLOWED_TAGS: Object.keys(TAG_ATTRS),
  ALLOWED_ATTR: [...new Set(Object.values(TAG_ATTRS).flat())],
  // DOMPurify tests every attribute value that is not "URI-safe" against this: the policy's schemes,
  // or a value without any scheme (the hook below then allows absolute http(s)/mailto links only).
  ALLOWED_URI_REGEXP: new RegExp(`^(?:(?:${SCHEMES}):|[^a-z]|[a-z+.\\-]+(?:[^a-z+.\\-:]|$))`, "i"),
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

/** The Markdown's HTML, sanitized, as a string. */
export const sanitizeHtml = (html) => purify.sanitize(html, PURIFY);
/** The Markdown's HTML, sanitized, as a DocumentFragment. */
export const sanitizeFragment = (html) => purify.sanitize(html, { ...PURIFY, RETURN_DOM_FRAGMENT: true });

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
// Set once: a config passed to each sanitize() is parsed again on each call, once per formula.
mathPurify.setConfig(MATH_PURIFY);

/** KaTeX's MathML, sanitized, as a DocumentFragment. */
export const sanitizeMath = (html) => mathPurify.sanitize(html);

// highlight.js output: <span class="hljs-…"> around escaped text, nothing else.
const codePurify = createDOMPurify(window);
codePurify.addHook("uponSanitizeAttribute", (node, data) => {
  if (data.attrName !== "class") data.keepAttr = false;
  else data.attrValue = data.attrValue.split(/\s+/).filter((c) => /^hljs-[a-z_-]{1,40}$/.test(c)).join(" ");
});
const CODE_PURIFY = { ALLOWED_TAGS: ["span"], ALLOWED_ATTR: ["class"] };

/** highlight.js's HTML, sanitized, as a string. */
export const sanitizeCode = (html) => codePurify.sanitize(html, CODE_PURIFY);
