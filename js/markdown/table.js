// A long table at the open end of a streaming answer, grown a few rows at a time (as the kernel's
// ollama_nb/_render/open_table.py does). A table is one block until the text after it begins, so
// re-rendering the open end would parse all of it again on every update: a 230 kB table arriving
// 500 characters at a time cost a task per update as long as a whole render. Its rows are
// independent (marked splits the lines, then each line's cells), so the rows shown keep their
// DOM and only new lines are parsed, behind the header and delimiter lines, by the same parser and
// through the same sanitizer. Whatever marked does not read as more rows of this one table (a
// blank line, another block, a line that ends it) sends the caller back to a render of the open end.
import { lex } from "./parse.js";
import { renderMarkdownFragment } from "./render.js";

/** Below this many characters the open end is rendered again: cheaper than keeping rows. */
export const MIN_CHARS = 2000;

const BLANK_LINE = /(?:^|\n)[ \t]*\n/;
// The line that ends a table for certain (marked's table rule stops at a line of spaces): the
// table is then finished, whatever comes after it.
const END_LINE = /(^|\n) *\n/;

/** `head` + `lines` rendered, when marked reads it as one table whose rows are exactly those
 * `count` lines; else null. */
function tableOf(head, lines, count, budget) {
  const text = head + lines;
  const blocks = lex(text)?.filter((t) => t.type !== "space");
  if (!blocks || blocks.length !== 1 || blocks[0].type !== "table" || blocks[0].rows.length !== count) return null;
  const frag = renderMarkdownFragment(text, true, budget);
  return frag?.querySelector("table")?.tBodies[0] ? frag : null;
}

const lineCount = (lines) => lines.split("\n").length - 1;

export class OpenTable {
  /** When `tail` (the open end) is one long table, `token` marked's: it, shown in `nodes`, its
   * formulas charged to `budget` (those of its header again with each batch of rows: a few more
   * than a whole render counts, in a rare table). */
  static start(tail, token, budget) {
    if (tail.length < MIN_CHARS || token?.type !== "table" || token.rows.length < 2) return null;
    const second = tail.indexOf("\n", tail.indexOf("\n") + 1);
    const complete = tail.slice(second + 1, tail.lastIndexOf("\n") + 1);
    if (second < 0 || !complete || BLANK_LINE.test(complete)) return null;
    const head = tail.slice(0, second + 1);
    const frag = tableOf(head, complete, lineCount(complete), budget);
    if (!frag) return null;
    const table = new OpenTable(head, complete, frag, budget);
    return table.grow(tail) ? table : null;
  }

  constructor(head, rows, frag, budget) {
    this.head = head; // the header and delimiter lines
    this.rows = rows; // the body lines shown, each ended by a newline...
    this.nodes = [...frag.childNodes]; // ...in this table (and the newline after it)
    this.body = frag.querySelector("table").tBodies[0];
    this.partial = []; // the row of the line still being written...
    this.budget = budget;
    this.partialBudget = budget.part(); // ...charged here, refunded as it is written again
  }

  /** Show `tail` (the open end, this table grown): true; false when it is not this table with more
   * rows (the caller then renders it anew, which removes `nodes`); or, when an empty line has
   * ended the table, how many characters of `tail` it is: its `nodes` are then final. */
  grow(tail) {
    if (!tail.startsWith(this.head) || !tail.startsWith(this.rows, this.head.length)) return false;
    const fresh = tail.slice(this.head.length + this.rows.length);
    let complete = fresh.slice(0, fresh.lastIndexOf("\n") + 1);
    let partial = fresh.slice(complete.length);
    const end = END_LINE.exec(complete);
    if (end) [complete, partial] = [complete.slice(0, end.index + end[1].length), ""];
    if (BLANK_LINE.test(complete)) return false;
    this.partialBudget.refund();
    const rows = complete ? tableOf(this.head, complete, lineCount(complete), this.budget) : null;
    const last = partial ? tableOf(this.head, partial, 1, this.partialBudget) : null;
    if ((complete && !rows) || (partial && !last)) return false;
    for (const n of this.partial) n.remove();
    if (rows) this.body.append(...rows.querySelector("table").tBodies[0].childNodes);
    this.partial = last ? [...last.querySelector("table").tBodies[0].childNodes] : [];
    this.body.append(...this.partial);
    this.rows += complete;
    return end ? this.head.length + this.rows.length : true;
  }
}
