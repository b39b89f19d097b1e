// The chat panel's elements, made once per view: toolbar, system prompt, banner, log, composer.
// They persist across updates, so focus and half-typed text survive.
import { h } from "../dom.js";
import { SAVED_CHAT } from "../saved.js";

export function skeleton() {
  const ui = {};
  ui.modelSelect = h("select", { class: "onb-chat-model", title: "Model", "aria-label": "Model" });
  ui.thinkBox = h("input", { class: "onb-chat-think-box", type: "checkbox" });
  ui.thinkLabel = h("label", { class: "onb-chat-think", title: "Let the model think before it answers (shown folded above the answer)" },
    ui.thinkBox, h("span", { text: "Think" }));
  ui.tempInput = h("input", { class: "onb-chat-temp-input", type: "number", min: "0", max: "2", step: "0.1", placeholder: "default" });
  const tempLabel = h("label", { class: "onb-chat-temp",
    title: "Temperature: 0 is focused and repeatable, higher is more varied; empty = the model's default" },
    h("span", { text: "Temperature" }), ui.tempInput);
  ui.clearButton = h("button", { class: "onb-chat-clear", type: "button", title: "Forget this conversation", text: "Clear" });
  const toolbar = h("div", { class: "onb-chat-toolbar" }, ui.modelSelect, ui.thinkLabel, tempLabel,
    h("span", { class: "onb-chat-spacer" }), ui.clearButton);

  ui.systemPreview = h("span", { class: "onb-chat-system-preview onb-muted" });
  ui.systemInput = h("textarea", { class: "onb-chat-system-input", rows: 3, "aria-label": "System prompt",
    placeholder: "How the model should behave, e.g. “You are a patient tutor.”" });
  const system = h("details", { class: "onb-chat-system" },
    h("summary", {}, h("span", { class: "onb-chat-system-title", text: "System prompt" }), ui.systemPreview), ui.systemInput);

  ui.banner = h("div", { class: "onb-chat-banner" });
  // One line of our own: a busy server's retry wait, or the context meter's advice.
  ui.notice = h("div", { class: "onb-chat-notice", role: "status" });
  ui.log = h("div", { class: "onb-chat-log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  // One sentence when an answer ends ("Answer from m finished"), not every frame of it: the
  // streaming row is aria-busy, and this status says when it is whole.
  ui.status = h("div", { class: "onb-sr-only", role: "status" });
  ui.emptyBody = h("div", { class: "onb-md" });
  ui.emptyHint = h("div", { class: "onb-muted" });
  ui.empty = h("div", { class: "onb-chat-empty" }, ui.emptyBody, ui.emptyHint);

  ui.input = h("textarea", { class: "onb-chat-input", rows: 1, placeholder: "Message", "aria-label": "Message" });
  ui.sendButton = h("button", { class: "onb-chat-send onb-primary", type: "button", text: "Send" });
  const composer = h("div", { class: "onb-chat-composer" }, ui.input, ui.sendButton);
  const hint = h("div", { class: "onb-chat-hint onb-muted", text: "Enter to send · Shift+Enter for a new line" });
  ui.savedNote = h("div", { class: "onb-saved-copy", role: "note", text: SAVED_CHAT, hidden: true });

  ui.root = h("div", { class: "onb-root onb-chat" }, toolbar, ui.savedNote, system, ui.banner, ui.log, ui.notice, ui.status, composer, hint);
  // What a copy restored from the saved notebook disables: controls that cannot work there.
  ui.controls = [ui.input, ui.sendButton, ui.clearButton, ui.modelSelect, ui.thinkBox, ui.tempInput, ui.systemInput];
  return ui;
}
