// The model browser's elements, made once per view (they keep focus and typed text across updates).
import { h } from "../dom.js";
import { SAVED_MODELS } from "../saved.js";
import { button } from "./parts.js";

export function skeleton() {
  const ui = {};
  ui.title = h("span", { class: "onb-mb-title", text: "Ollama models" });
  ui.countEl = h("span", { class: "onb-mb-count", title: "Models on this server" });
  ui.hostEl = h("span", { class: "onb-mb-host onb-muted" });
  ui.busyEl = h("span", { class: "onb-mb-busy onb-muted", role: "status" });
  ui.filterInput = h("input", { type: "search", class: "onb-mb-filter", placeholder: "Filter models…", "aria-label": "Filter models", spellcheck: false });
  ui.refreshBtn = button("Refresh", "refresh", {}, { class: "onb-mb-refresh", title: "Reload the list from the server" });
  const head = h("div", { class: "onb-mb-head" }, h("div", { class: "onb-mb-titles" }, ui.title, ui.countEl, ui.hostEl), ui.busyEl,
    h("div", { class: "onb-mb-spacer" }), ui.filterInput, ui.refreshBtn);
  ui.messages = h("div", { class: "onb-mb-messages" });
  ui.thead = h("thead");
  ui.tbody = h("tbody");
  ui.table = h("table", { class: "onb-mb-table" }, ui.thead, ui.tbody);
  ui.empty = h("div", { class: "onb-mb-empty onb-muted" });
  ui.detailsPane = h("aside", { class: "onb-mb-details", "aria-label": "Model details" });
  const main = h("div", { class: "onb-mb-main" }, h("div", { class: "onb-mb-tablewrap" }, ui.table, ui.empty), ui.detailsPane);
  ui.runningBody = h("div", { class: "onb-mb-running-body" });
  ui.runningSection = h("section", { class: "onb-mb-section onb-mb-running" }, h("h3", { text: "Running" }), ui.runningBody);
  ui.pullInput = h("input", { type: "text", class: "onb-mb-pull-name", placeholder: "Model to pull, e.g. llama3.2 or qwen3:8b",
    "aria-label": "Model to pull", spellcheck: false, autocomplete: "off" });
  ui.pullsEl = h("div", { class: "onb-mb-pulls" });
  ui.pullSection = h("section", { class: "onb-mb-section onb-mb-pull" }, h("h3", { text: "Pull a model" }),
    h("div", { class: "onb-mb-pull-form" }, ui.pullInput, button("Pull", "pull", {}, { class: "onb-primary onb-mb-pull-btn" })), ui.pullsEl);
  ui.copyInput = h("input", { type: "text", class: "onb-mb-copy-name", "aria-label": "New name", spellcheck: false, autocomplete: "off" });
  // Ollama Cloud's plan limits (session, weekly) from /api/usage; hidden without them.
  ui.quotaBody = h("div", { class: "onb-mb-quota-body" });
  ui.quotaSection = h("section", { class: "onb-mb-section onb-mb-quota" }, h("h3", { text: "Usage" }), ui.quotaBody);
  ui.savedNote = h("div", { class: "onb-saved-copy", role: "note", text: SAVED_MODELS, hidden: true });
  ui.root = h("div", { class: "onb-root onb-models" }, head, ui.savedNote, ui.messages, ui.quotaSection, main, ui.runningSection, ui.pullSection);
  return ui;
}
