// One row of the transcript: a user's bubble, or an answer (thinking folded above, the body, its
// error and stats). Model text goes in through MarkdownStream (markdown.js); the rest as text.
import { h, withCode } from "../dom.js";
import { INVISIBLE } from "../invisible.js";
import { MarkdownStream, copyText } from "../markdown.js";
import { shownName } from "../names.js";

const STATUS_LABEL = {
  running: "answering",
  stopped: "stopped",
  interrupted: "interrupted",
  failed: "failed",
};

// Copy takes the answer as the model wrote it; when that holds characters that print as nothing,
// it says so (the code blocks' own Copy takes them as their visible marks).
function copyButton(getText, name, label = "Copy") {
  const b = h("button", { class: "onb-chat-copy", type: "button", title: "Copy to clipboard", "aria-label": name, text: label });
  b.addEventListener("click", async (event) => {
    event.preventDefault();
    const text = getText();
    const hidden = (text.match(INVISIBLE) || []).length;
    const ok = await copyText(text);
    b.textContent = !ok ? "Copy failed" : hidden ? `Copied, with ${hidden} invisible character${hidden === 1 ? "" : "s"}` : "Copied";
    setTimeout(() => (b.textContent = label), 1500);
  });
  return b;
}

// Each body is a MarkdownStream: an update re-renders only the answer's open end, and a text
// that did not change (the thinking once the answer starts) is not rendered again at all.
export function fillAssistant(parts, content, thinking, status) {
  parts.text = content;
  const streaming = status === "running";
  if (thinking) {
    parts.thinking.hidden = false;
    const title = streaming && !content ? "Thinking…" : "Thinking";
    if (parts.thinkingTitle.textContent !== title) parts.thinkingTitle.textContent = title;
    if (streaming && !content && !parts.keep.touched) parts.thinking.open = true;
    if (streaming && content && !parts.keep.touched) parts.thinking.open = false;
    parts.thinkingMd.set(thinking);
  } else {
    parts.thinking.hidden = true;
  }
  parts.bodyMd.set(content);
  parts.body.hidden = !content;
  parts.typing.hidden = !(streaming && !content && !thinking);
  parts.copy.hidden = !content;
  // Screen readers wait for the whole answer instead of reading every frame's half sentence.
  if (!streaming) parts.row.removeAttribute("aria-busy");
  else if (parts.row.getAttribute("aria-busy") !== "true") parts.row.setAttribute("aria-busy", "true");
}

// The parts of an answer that outlive a rebuild of its row: the thinking block and the bodies,
// with their MarkdownStreams (whose formulas the panel's TexBudget counts).
function keptParts(panel) {
  const keep = { touched: false };
  keep.thinkingTitle = h("span", { text: "Thinking" });
  const summary = h("summary", {}, keep.thinkingTitle);
  summary.addEventListener("click", () => (keep.touched = true));
  keep.thinkingBody = h("div", { class: "onb-md onb-thinking-body" });
  keep.thinking = h("details", { class: "onb-thinking" }, summary, keep.thinkingBody);
  keep.body = h("div", { class: "onb-md onb-msg-body" });
  keep.typing = h("span", { class: "onb-typing", "aria-hidden": "true" }, h("span"), h("span"), h("span"));
  keep.thinkingMd = new MarkdownStream(keep.thinkingBody, panel);
  keep.bodyMd = new MarkdownStream(keep.body, panel);
  // The row left the transcript: what its texts typeset goes back to the panel.
  keep.drop = () => {
    keep.thinkingMd.drop();
    keep.bodyMd.drop();
  };
  return keep;
}

/** An answer's row. `old`: the parts its row had before (same turn), whose rendered Markdown is
 * reused, so the commit of a streamed answer re-renders only its last blocks; `panel`: the
 * TexBudget of the transcript it is in. */
export function assistantRow(msg, old, panel = null) {
  const who = msg.model ? shownName(msg.model) : "Assistant";
  const row = h("div", { class: "onb-msg onb-msg-assistant", role: "article",
    "aria-label": `Answer from ${msg.model ? shownName(msg.model) : "the assistant"}`, data: { turn: msg.turn, status: msg.status || "" } });
  const label = STATUS_LABEL[msg.status];
  const keep = old?.keep || keptParts(panel);
  const parts = { text: "", row, keep, ...keep };
  parts.copy = copyButton(() => parts.text, `Copy the answer from ${msg.model || "the assistant"}`);
  const head = h("div", { class: "onb-msg-head" }, h("span", { class: "onb-msg-who", text: who }),
    label ? h("span", { class: `onb-badge onb-badge-${msg.status}`, text: label }) : null, h("span", { class: "onb-chat-spacer" }), parts.copy);
  row.append(head, parts.thinking, parts.typing, parts.body);
  if (msg.error) {
    row.append(h("div", { class: "onb-error-box", role: "alert" },
      h("div", { class: "onb-error-message", text: msg.error.message || "Something went wrong." }),
      msg.error.hint ? withCode("div", "onb-error-hint", msg.error.hint) : null));
  }
  // The head already names the model; the stats line starts with it too.
  const stats = msg.model && msg.stats?.startsWith(`${msg.model} · `) ? msg.stats.slice(msg.model.length + 3) : msg.stats;
  if (stats) row.append(h("div", { class: "onb-msg-foot", text: stats }));
  fillAssistant(parts, msg.content || "", msg.thinking || "", msg.status);
  return { el: row, parts };
}

/** A user's row (`queued`: sent from this view, not yet in the transcript). */
export function userRow(msg, queued = false) {
  const row = h("div", { class: "onb-msg onb-msg-user" + (queued ? " onb-msg-queued" : ""), role: "article",
    "aria-label": queued ? "Your message (sending)" : "Your message", data: msg.turn ? { turn: msg.turn } : undefined },
    h("div", { class: "onb-msg-bubble", text: msg.content || "" }));
  return { el: row, parts: {} };
}
