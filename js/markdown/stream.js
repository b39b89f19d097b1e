// A text that only grows (a streaming answer or its thinking), rendered at the cost of its open
// end per update instead of the whole text, and a long table or tight list at the open end at the
// cost of its new rows or items (table.js, list.js).
import { TexBudget } from "../caps.js";
import { decorateCodeBlocks } from "./code.js";
import { lex } from "./parse.js";
import { capped, renderMarkdownFragment } from "./render.js";
import { OpenList } from "./list.js";
import { OpenTable } from "./table.js";

// Constructs whose meaning reaches back over a blank line into text before them: a reference
// definition changes links anywhere, and display math ($$, \[) may span blank lines. (The kernel's
// StreamRenderer, ollama_nb/_render/markdown.py, makes the same two exceptions.)
const REFERENCE = "]:";
const occurrences = (text, what) => text.split(what).length - 1;
const mathBalanced = (text) => occurrences(text, "$$") % 2 === 0 && occurrences(text, "\\[") === occurrences(text, "\\]");

// Blocks that take nothing more once the next block has begun, whatever that one becomes: a
// heading, a rule, a closed fence (a line that ended them is complete). A table is one of them
// only behind a blank line: "#" after it may yet become "#x", one more row. A list too, behind a
// blank line and a block that starts with a letter at the margin: no list item or continuation can.
const closed = (t, next, last) =>
  t.type === "heading" || t.type === "hr" || (t.type === "code" && t.codeBlockStyle !== "indented") ||
  (t.type === "table" && next.type === "space") ||
  (t.type === "list" && next.type === "space" && /^[A-Za-z]/.test(last.raw));
// A last block that the one before cannot reach into any more: a table (its header and delimiter
// lines stand between) or a list past its first item (the second one's marker ended the first).
const apart = (t) => t.type === "table" || (t.type === "list" && t.items.length >= 2);

/** Where the finished blocks of `text` end, given marked's `tokens` of it, and its last block.
 *
 * Top-level blocks before the last two are finished: CommonMark never reopens a closed block, and
 * only the block right before the last can still absorb what comes (a list the next item joins
 * across a blank line, a setext underline). So is the one before the last when it is `closed`, or
 * when the last stands `apart` from it. 0: nothing finished, or
 * marked's tokens do not add up to the text, so no cut can be trusted. */
function finishedEnd(text, tokens) {
  let total = 0;
  const blocks = []; // [start, token, the token after it]
  tokens.forEach((t, i) => {
    if (t.type !== "space") blocks.push([total, t, tokens[i + 1]]);
    total += t.raw.length;
  });
  const n = blocks.length;
  const last = blocks[n - 1];
  if (total !== text.length || n < 2) return [0, last?.[1]];
  const [start, before, next] = blocks[n - 2];
  if (closed(before, next, last[1]) || apart(last[1])) return [last[0], last[1]];
  return [n >= 3 ? start : 0, last[1]];
}

/**
 * The rendered Markdown of a text that only grows (a streaming answer or its thinking) in `el`,
 * at the cost of its open end per update instead of the whole text.
 *
 * Finished blocks (finishedEnd) keep their DOM; only the rest is parsed, sanitized (the same
 * DOMPurify policy, piece by piece), highlighted and decorated again, and of a long table at the
 * open end only its new rows. Where that would not hold (a reference definition anywhere, display
 * math left open in the finished part, lists or quotes nested past the cap, a text that is not the
 * old one grown) it renders the whole text, so `el` always ends as `setMarkdown(el, text)` would
 * leave it.
 *
 * Its formulas are charged to an answer's TexBudget (and to `panel`, a chat panel's): the finished
 * blocks' once, the open end's each time it is rendered, refunded before the next time.
 *
 *   const md = new MarkdownStream(el);
 *   md.set("# Title\n\nfir"); md.set("# Title\n\nfirst words");   // the heading is not redone
 */
export class MarkdownStream {
  constructor(el, panel = null) {
    this.el = el;
    this.budget = TexBudget.answer(panel); // the formulas of the finished blocks...
    this.openBudget = this.budget.part(); // ...and of the rest, refunded whenever it is rendered again
    this.text = null; // what el shows (null: nothing set yet)
    this.done = ""; // the finished blocks' source, whose nodes stay in el...
    this.codeBlocks = 0; // ...holding this many code blocks...
    this.open = []; // ...followed by these nodes, of the rest: replaced on every update...
    this.table = null; // ...unless they are an OpenTable or OpenList, which grows in place
    this.note = null; // the answer-length cap's note, last
    this.renders = 0; // updates that rendered something (tests count them)
  }

  /** Show `text`; returns false (and touches nothing) when it is what is shown already. */
  set(text) {
    text = String(text ?? "").replace(/\r\n?/g, "\n");
    if (text === this.text) return false;
    this.renders += 1;
    const [body, note] = capped(text);
    this.note?.remove();
    if (body.includes(REFERENCE) || this.text === null || !body.startsWith(this.done) || !this.grow(body)) {
      this.whole(body);
    }
    this.text = text;
    this.note = note;
    if (note) this.el.append(note);
    return true;
  }

  /** The text is gone (its row left the transcript): what it typeset goes back to the panel. */
  drop() {
    this.openBudget.refund();
    this.budget.refund();
  }

  // All of `body` rendered again: nothing finished.
  whole(body) {
    this.drop();
    this.el.replaceChildren(renderMarkdownFragment(body, false, this.openBudget));
    decorateCodeBlocks(this.el);
    this.done = "";
    this.codeBlocks = 0;
    this.open = [...this.el.childNodes];
    this.table = null;
  }

  // `body`, the old text grown: its open end rendered again (or its open table grown), what is
  // finished of it settled. False when it must be rendered whole (lists or quotes too deep).
  grow(body) {
    let rest = body.slice(this.done.length);
    const grown = this.table?.grow(rest);
    if (grown === true) return true;
    this.table = null;
    if (grown && mathBalanced(rest.slice(0, grown))) {
      // An empty line ended the open table: its rows are final, settled as they are.
      this.openBudget.keep();
      this.done += rest.slice(0, grown);
      this.open = [];
      rest = rest.slice(grown);
    }
    const tokens = rest.includes("\n") ? lex(rest) : []; // one line is one block
    if (tokens === null) return false;
    const [cut, last] = finishedEnd(rest, tokens);
    for (const n of this.open) n.remove();
    this.open = [];
    this.openBudget.refund();
    if (cut > 0 && mathBalanced(rest.slice(0, cut))) {
      const settled = this.show(rest.slice(0, cut));
      if (settled === null) return false;
      this.openBudget.keep();
      this.done += rest.slice(0, cut);
      this.codeBlocks += settled.codeBlocks;
      rest = rest.slice(cut);
    }
    this.table = OpenTable.start(rest, last, this.openBudget) ?? OpenList.start(rest, last, this.openBudget);
    if (this.table) {
      this.open = this.table.nodes;
      this.el.append(...this.open);
      return true;
    }
    this.open = this.show(rest)?.nodes;
    return this.open !== undefined;
  }

  // `source` rendered, decorated as the code blocks after the finished ones, and appended: its
  // nodes and how many code blocks they hold (null when it nests too deep).
  show(source) {
    const frag = renderMarkdownFragment(source, true, this.openBudget);
    if (frag === null) return null;
    decorateCodeBlocks(frag, this.codeBlocks);
    const shown = { nodes: [...frag.childNodes], codeBlocks: frag.querySelectorAll("pre").length };
    this.el.append(frag);
    return shown;
  }
}
