// The header (title, host, busy line), the error and notice messages, and the quota panel.
import { h, withCode } from "../dom.js";
import { bar, button } from "./parts.js";

export function renderHead(view) {
  const { get, ui } = view;
  const cloud = get("cloud");
  ui.title.textContent = cloud ? "Ollama Cloud models" : "Ollama models";
  ui.hostEl.textContent = get("host") || "";
  const busy = get("busy") || "";
  ui.busyEl.textContent = busy;
  ui.busyEl.classList.toggle("onb-mb-spinning", !!busy);
  ui.refreshBtn.disabled = busy.startsWith("Refreshing");
  ui.runningSection.hidden = !!cloud;
  ui.pullSection.hidden = !!cloud;
}

export function renderMessages(view) {
  const { get, ui } = view;
  const err = get("error") || {};
  const notice = get("notice") || "";
  const dismiss = () => button("×", "clear", {}, { class: "onb-mb-x", title: "Dismiss" });
  const items = [];
  if (err.message) {
    items.push(h("div", { class: "onb-mb-msg onb-mb-msg-error", role: "alert" },
      h("div", { class: "onb-mb-msg-text" }, h("strong", { text: err.message }), err.hint ? withCode("div", "onb-mb-hint", err.hint) : null),
      dismiss()));
  }
  if (notice) {
    items.push(h("div", { class: "onb-mb-msg onb-mb-msg-notice", role: "status" }, h("div", { class: "onb-mb-msg-text", text: notice }), dismiss()));
  }
  ui.messages.replaceChildren(...items);
}

export function renderQuota(view) {
  const { get, ui } = view;
  const rows = get("quota") || [];
  ui.quotaSection.hidden = rows.length === 0;
  ui.quotaBody.replaceChildren(...rows.map((r) => {
    const full = typeof r.fraction === "number" && r.fraction >= 0.9;
    return h("div", { class: "onb-mb-quota-row", data: { limit: r.limit } },
      h("span", { class: "onb-mb-quota-name", text: r.limit }),
      bar(typeof r.fraction === "number" ? r.fraction : null, full ? "onb-mb-bar-failed" : "", `${r.limit} usage`),
      h("span", { class: "onb-mb-quota-used", text: r.used }),
      h("span", { class: "onb-mb-quota-resets onb-muted", text: r.resets ? `resets ${r.resets}` : "" }));
  }));
}
