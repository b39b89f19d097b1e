// Models loaded in memory (ps), with the "expires in" countdown the view ticks itself.
import { h } from "../dom.js";
import { count, expiresIn, text } from "./format.js";
import { button, nameText } from "./parts.js";

export function tick(view) {
  const now = Date.now();
  for (const span of view.ui.runningBody.querySelectorAll("[data-expires]")) span.textContent = expiresIn(span.dataset.expires, now);
}

function row(r) {
  const vram = +r.size_vram || 0, total = +r.size || 0;
  const gpu = total ? Math.round((100 * vram) / total) : 0;
  const where = !total ? "–" : gpu >= 100 ? "100% GPU" : gpu <= 0 ? "100% CPU" : `${gpu}% GPU / ${100 - gpu}% CPU`;
  return h("tr", {},
    h("td", { class: "onb-mb-name" }, nameText("button", "onb-mb-link", r.name, { type: "button", data: { act: "select", name: r.name } })),
    h("td", { class: "onb-num", text: text(r.size_text) }),
    h("td", { text: where }),
    h("td", { class: "onb-num", text: r.context_length ? count(r.context_length) : "–" }),
    h("td", { class: "onb-mb-expires" }, h("span", { data: { expires: r.expires_at || "" }, text: expiresIn(r.expires_at) })),
    h("td", { class: "onb-mb-cell-btn" }, button("Unload", "unload", { name: r.name }, { title: "Free its memory now (keep_alive=0)" })));
}

export function renderRunning(view) {
  const rows = view.get("running") || [];
  if (!rows.length) {
    view.ui.runningBody.replaceChildren(h("div", { class: "onb-muted onb-mb-none", text: "No model is loaded. Select one and press Load, or just use it." }));
    return;
  }
  view.ui.runningBody.replaceChildren(h("table", { class: "onb-mb-table onb-mb-ps" },
    h("thead", {}, h("tr", {}, ["Name", "In memory", "Processor", "Context", "Expires", ""].map((t, i) => h("th", { class: i === 1 || i === 3 ? "onb-num" : "", text: t })))),
    h("tbody", {}, rows.map(row))));
}
