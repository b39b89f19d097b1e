// The conversation in the log: the committed messages (the `messages` trait, patched per turn) and
// the answer being generated, which is not a trait: the kernel sends it as custom messages, `delta`
// (only the new text, numbered by `seq`) and `partial` (everything so far, the reply to our
// {type: "sync"}). A view that renders mid-stream, or misses a delta, asks for a sync, so every
// view shows the same text. Past a budget of formulas for the whole panel (caps.js), the rest
// of its answers' formulas are shown as source.
import { TexBudget } from "../caps.js";
import { setMarkdown } from "../markdown.js";
import { shownName } from "../names.js";
import { assistantRow, fillAssistant, userRow } from "./rows.js";

export function transcript(view, ui) {
  const { get, tell } = view;
  const { log } = ui;
  const rows = new Map(); // "turn:role" -> { sig, el, parts, msg }
  const panel = TexBudget.panel(); // the formulas its answers typeset
  let live = null; // { turn, seq, content, thinking }
  let syncAskedAt = -Infinity;
  const t = { echo: null }; // text sent from this view that the kernel has not yet shown

  t.nearBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  t.toBottom = () => {
    log.scrollTop = log.scrollHeight;
  };

  function row(msg) {
    const key = `${msg.turn}:${msg.role}`;
    let r = rows.get(key);
    // The same object: unchanged (a patch keeps earlier turns' objects). Else compare the text.
    if (!r || r.msg !== msg) {
      const sig = JSON.stringify(msg);
      if (!r || r.sig !== sig) {
        r = { sig, ...(msg.role === "user" ? userRow(msg) : assistantRow(msg, r?.parts, panel)) };
        rows.set(key, r);
      }
      r.msg = msg;
    }
    return [key, r.el];
  }

  function emptyState() {
    const text = get("placeholder", "");
    setMarkdown(ui.emptyBody, text);
    ui.emptyBody.hidden = !text;
    const name = get("model", "");
    ui.emptyHint.textContent = name ? `Ask ${shownName(name)} anything.` : "Pick a model, then ask anything.";
    ui.emptyHint.hidden = !!text;
    return ui.empty;
  }

  // The answer being streamed: once committed (not running), the live copy is dropped. Run on
  // every change of the messages, drawn or not: a state that lasts less than a frame still ends it.
  t.settle = () => {
    if (!live) return;
    const entry = get("messages", []).find((m) => m.turn === live.turn && m.role === "assistant");
    if (entry && entry.status !== "running") live = null;
  };

  t.render = () => {
    const stick = t.nearBottom();
    const messages = get("messages", []);
    // Rows that left go first, so what they typeset is the panel's again for the rows made now.
    const seen = new Set(messages.map((msg) => `${msg.turn}:${msg.role}`));
    for (const [key, r] of [...rows]) {
      if (seen.has(key)) continue;
      r.parts.keep?.drop();
      rows.delete(key);
    }
    const children = messages.map((msg) => row(msg)[1]);
    t.settle();
    if (t.echo !== null && messages.length > t.echo.count) t.echo = null;
    if (t.echo !== null) children.push(userRow({ content: t.echo.text }, true).el);
    if (!children.length) children.push(emptyState());
    // Only what changed moves: a row put back in place would be announced again by the log.
    children.forEach((child, i) => {
      if (log.children[i] !== child) log.insertBefore(child, log.children[i] || null);
    });
    while (log.children.length > children.length) log.lastElementChild.remove();
    renderLive();
    if (stick) t.toBottom();
    ui.clearButton.disabled = !messages.length;
  };

  function renderLive() {
    if (!live) return;
    const r = rows.get(`${live.turn}:assistant`);
    if (!r || r.el.dataset.status !== "running") return;
    const stick = t.nearBottom();
    fillAssistant(r.parts, live.content, live.thinking, "running");
    if (stick) t.toBottom();
  }

  const schedule = view.paced(renderLive);

  const askSync = () => {
    const now = performance.now();
    if (now - syncAskedAt < 1000) return;
    syncAskedAt = now;
    tell({ type: "sync" });
  };

  /** A custom message from the kernel: the answer so far, or the next piece of it. */
  t.onCustom = (msg) => {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "partial") {
      syncAskedAt = -Infinity;
      live = msg.turn ? { turn: msg.turn, seq: msg.seq, content: msg.content || "", thinking: msg.thinking || "" } : null;
      schedule();
    } else if (msg.type === "delta") {
      if (!live || live.turn !== msg.turn) {
        if (msg.seq !== 1) return askSync(); // joined mid-stream: ask for what came before
        live = { turn: msg.turn, seq: 0, content: "", thinking: "" };
      }
      if (msg.seq <= live.seq) return; // already in a partial we got
      if (msg.seq !== live.seq + 1) return askSync();
      live.seq = msg.seq;
      if (msg.content) live.content += msg.content;
      if (msg.thinking) live.thinking += msg.thinking;
      schedule();
    }
  };
  return t;
}
