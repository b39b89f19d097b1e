// A text that only grows (a streaming answer or its thinking), rendered at the cost of its open
// end per update instead of the whole text.
import { decorateCodeBlocks } from "./code.js";
import { lex } from "./parse.js";
import { capped, renderMarkdownFragment } from "./render.js";

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
  const tokens = lex(text);
  if (tokens === null) return 0; // rendered whole, as its source
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
