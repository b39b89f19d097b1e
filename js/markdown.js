// Markdown for model output, which is untrusted: marked (GFM, raw HTML shown as text) -> DOMPurify
// with the allowlist in ollama_nb/_render/policy.json (the one the kernel's nh3 uses) -> math
// (KaTeX's MathML, sanitized on its own) -> highlight.js on the sanitized code's text.
// Nothing reaches the DOM unsanitized, and nothing in the result loads anything by itself.
//
// The widgets import it from here; each step is a module of its own in markdown/: policy.js (the
// allowlist), sanitize.js (DOMPurify), parse.js (marked), math.js (KaTeX), code.js (highlighting,
// invisible characters, Copy), render.js (a whole text), stream.js (a text that only grows).
//
//   import { renderMarkdown, setMarkdown } from "./markdown.js";
//   setMarkdown(el, "Hello **world**, $e^{i\\pi}+1=0$");
export { copyText, decorateCodeBlocks } from "./markdown/code.js";
export { inlineImage, linkOk } from "./markdown/policy.js";
export { renderMarkdown, renderMarkdownFragment, sanitizedMarkdown, setMarkdown } from "./markdown/render.js";
export { MarkdownStream } from "./markdown/stream.js";
