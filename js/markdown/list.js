// A long tight list at the open end of a streaming answer, grown an item at a time (as table.js
// grows a table by its rows). A list is one block until the text after it begins, so rendering
// the open end again would parse all of it on every update. Items before the last one are
// finished (the next item's marker ended them) and render alike alone, in a tight list: their
// <li>s keep their DOM, and only the items after them are parsed, by the same parser and through
// the same sanitizer. Whatever marked does not read as more tight items of this one list (a blank
// line between items, another kind of marker, another block) sends the caller back to a render of
// the open end.
import { lex } from "./parse.js";
import { renderMarkdownFragment } from "./render.js";
import { MIN_CHARS } from "./table.js";

// The list's kind: marked starts a new list at another bullet or delimiter.
const marker = (item) => /^ *([-+*]|\d{1,9}[.)])/.exec(item.raw)?.[1].replace(/\d+/, "1");

/** `source` rendered, when marked reads it as one tight list of `kind` items without formulas: its
 * fragment, list element, <li>s and items' raws; else null. */
function itemsOf(source, kind, budget) {
  const blocks = lex(source)?.filter((t) => t.type !== "space");
  const list = blocks?.length === 1 ? blocks[0] : null;
  if (list?.type !== "list" || list.loose || list.raw.trimEnd().length !== source.trimEnd().length) return null;
  if (list.items.some((item) => marker(item) !== kind)) return null;
  // Its last item is rendered again with each update, so a formula's charge to the answer's
  // TexBudget could not be kept exact: a list with one is rendered with the open end instead.
  const trial = budget.part();
  const frag = renderMarkdownFragment(source, true, trial);
  trial.refund();
  if (frag?.querySelector(".onb-math, .onb-math-display, .onb-math-source")) return null;
  const el = frag?.firstElementChild;
  // A code block in an item is numbered and decorated with the answer's: rendered with the open end.
  if (frag?.querySelector("pre")) return null;
  if (!el || el.localName !== (list.ordered ? "ol" : "ul") || el.children.length !== list.items.length) return null;
  // Its items' nodes: each <li> and the newline after it, as in marked's HTML.
  const nodes = [...el.childNodes];
  const at = (li) => nodes.indexOf(li);
  return { frag, el, items: nodes.slice(at(el.firstElementChild)), last: nodes.slice(at(el.lastElementChild)),
           raws: list.items.map((item) => item.raw) };
}

export class OpenList {
  /** When `tail` (the open end) is one long tight list, `token` marked's: it, shown in `nodes`
   * (`budget`: the answer's, for the formulas that send it back to a render of the open end). */
  static start(tail, token, budget) {
    if (tail.length < MIN_CHARS || token?.type !== "list" || token.loose || token.items.length < 3) return null;
    const got = itemsOf(tail, marker(token.items[0]), budget);
    return got && new OpenList(marker(token.items[0]), got, budget);
  }

  constructor(kind, { frag, el, last, raws }, budget) {
    this.kind = kind;
    this.budget = budget;
    this.nodes = [...frag.childNodes]; // the list (and the newline after it)...
    this.el = el;
    this.done = raws.slice(0, -1).join(""); // ...whose finished items' source this is...
    this.open = last; // ...followed by the nodes of the item after them
  }

  /** Show `tail` (the open end, this list grown): false when it is not this list with more tight
   * items (the caller then renders it anew, which removes `nodes`). */
  grow(tail) {
    if (!tail.startsWith(this.done) || /\n[ \t]*\n$/.test(this.done)) return false;
    const fresh = tail.slice(this.done.length);
    const got = itemsOf(fresh, this.kind, this.budget);
    if (!got) return false;
    const { items, last, raws } = got;
    for (const n of this.open) n.remove();
    this.el.append(...items);
    this.open = last;
    this.done += raws.slice(0, -1).join("");
    return true;
  }
}
