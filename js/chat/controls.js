// The chat's controls: model picker, think, temperature, system prompt, banner and notice, the
// composer (Send / Stop), and the screen reader's one-line status. Values go back to the kernel
// as trait changes (save) or custom messages (tell); nothing here decides a turn's outcome.
import { h, withCode } from "../dom.js";
import { QUOTED_TITLE, needsQuotes, shownName } from "../names.js";

const ENDED = { done: "finished", stopped: "stopped", interrupted: "interrupted", failed: "failed" };

export function controls(view, ui, t) {
  const { get, tell, save } = view;
  const c = {};

  // The exact name is the value; what shows is names.js's reading of it.
  const option = (n) => h("option", { value: n, text: shownName(n), title: needsQuotes(n) ? QUOTED_TITLE : undefined });
  // The listed models' options are made again only when the list changes: a model picked from
  // elsewhere (chat.model = ..., once per turn in a script) changes the selection, or the one
  // option above them for a model the list lacks (with 175 models listed, remaking them all on
  // every turn cost seconds in a page of a dozen panels).
  let listed = null; // the `models` list the options hold (as JSON)
  let extra = null; // the option of a current model not in that list
  c.renderModels = () => {
    const names = get("models", []);
    const current = get("model", "");
    const key = JSON.stringify(names);
    if (key !== listed) {
      listed = key;
      extra = null;
      ui.modelSelect.replaceChildren(...names.map(option));
    }
    const unlisted = current && !names.includes(current) ? current : null;
    if ((extra ? extra.value : null) !== unlisted) {
      extra?.remove();
      extra = unlisted === null ? null : option(unlisted);
      if (extra) ui.modelSelect.prepend(extra);
    }
    const none = ui.modelSelect.querySelector(":scope > .onb-no-models");
    if (!ui.modelSelect.options.length) ui.modelSelect.append(h("option", { value: "", class: "onb-no-models", text: "(no models)" }));
    else if (none && ui.modelSelect.options.length > 1) none.remove();
    ui.modelSelect.value = current;
  };

  c.renderSettings = () => {
    ui.thinkLabel.hidden = !get("can_think", false);
    ui.thinkBox.checked = !!get("think", true);
    const temp = get("temperature", null);
    if (document.activeElement !== ui.tempInput) ui.tempInput.value = temp === null ? "" : String(temp);
    const text = get("system", "");
    if (document.activeElement !== ui.systemInput) ui.systemInput.value = text;
    ui.systemPreview.textContent = text ? text.replace(/\s+/g, " ") : "none";
  };

  let wasBusy = null; // null: the first render, which announces nothing
  c.announce = () => {
    const busy = !!get("busy", false);
    if (wasBusy !== null && busy !== wasBusy) {
      const messages = get("messages", []);
      const last = [...messages].reverse().find((m) => m.role === "assistant") || null;
      const who = last?.model || get("model", "") || "The model";
      if (busy) ui.status.textContent = `${who} is answering.`;
      else if (last) {
        const ended = ENDED[last.status] || "finished";
        ui.status.textContent = `Answer from ${who} ${ended}.${last.error?.message ? " " + last.error.message : ""}`;
      }
    }
    wasBusy = busy;
  };

  c.renderBusy = () => {
    const busy = !!get("busy", false);
    ui.root.classList.toggle("onb-busy", busy);
    if (busy) ui.log.setAttribute("aria-busy", "true");
    else ui.log.removeAttribute("aria-busy");
    ui.sendButton.textContent = busy ? "Stop" : "Send";
    ui.sendButton.title = busy ? "Stop the answer (the part so far is kept)" : "Send (Enter)";
    ui.sendButton.classList.toggle("onb-primary", !busy);
    ui.sendButton.classList.toggle("onb-stop", busy);
    ui.sendButton.disabled = false;
    if (busy) t.echo = null;
  };

  c.renderBanner = () => {
    const err = get("error", {}) || {};
    ui.banner.hidden = !err.message;
    ui.banner.replaceChildren(...(err.message
      ? [h("div", { class: "onb-error-message", text: err.message }), err.hint ? withCode("div", "onb-error-hint", err.hint) : null]
      : []).filter(Boolean));
  };

  c.renderNotice = () => {
    const text = get("notice", "");
    ui.notice.hidden = !text;
    ui.notice.replaceChildren(...(text ? [withCode("div", "onb-chat-notice-text", text)] : []));
  };

  const autosize = () => {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 200) + "px";
  };

  const submit = () => {
    if (get("busy", false)) return;
    const text = ui.input.value;
    if (!text.trim()) return;
    tell({ type: "send", text });
    t.echo = { text, count: get("messages", []).length };
    ui.input.value = "";
    autosize();
    t.render();
    t.toBottom();
  };

  c.listen = (life) => {
    life.listen(ui.input, "keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        submit();
      }
    });
    life.listen(ui.input, "input", autosize);
    life.listen(ui.sendButton, "click", () => {
      if (!get("busy", false)) return submit();
      tell({ type: "stop" });
      ui.sendButton.disabled = true; // until busy goes false
    });
    life.listen(ui.clearButton, "click", () => tell({ type: "clear" }));
    life.listen(ui.modelSelect, "change", () => save("model", ui.modelSelect.value));
    let refreshedAt = -Infinity;
    life.listen(ui.modelSelect, "focus", () => {
      if (performance.now() - refreshedAt > 10_000) {
        refreshedAt = performance.now();
        tell({ type: "refresh" });
      }
    });
    life.listen(ui.thinkBox, "change", () => save("think", ui.thinkBox.checked));
    life.listen(ui.tempInput, "change", () => {
      const raw = ui.tempInput.value.trim();
      const value = raw === "" ? null : Math.min(2, Math.max(0, Number(raw)));
      if (value !== null && Number.isNaN(value)) return c.renderSettings();
      save("temperature", value);
      ui.tempInput.value = value === null ? "" : String(value);
    });
    life.listen(ui.systemInput, "change", () => save("system", ui.systemInput.value));
  };
  return c;
}
