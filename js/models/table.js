// The table of models: sorted and filtered in the view (view.sort, view.filter), one row each.
import { h } from "../dom.js";
import { COLUMNS, nameText } from "./parts.js";

function header(view) {
  const { key, dir } = view.sort;
  return h("tr", {}, COLUMNS.map((c) =>
    h("th", { class: c.num ? "onb-num" : "", scope: "col", "aria-sort": c.key === key ? (dir > 0 ? "ascending" : "descending") : "none" },
      h("button", { type: "button", class: "onb-mb-sort", data: { act: "sort", key: c.key }, title: `Sort by ${c.label.toLowerCase()}` },
        c.label, h("span", { class: "onb-mb-arrow", "aria-hidden": "true", text: c.key === key ? (dir > 0 ? "▲" : "▼") : "" })))));
}

function shownRows(view, all) {
  const needle = view.filter.trim().toLowerCase();
  const rows = all.filter((m) => !needle || [m.name, m.family, m.quantization, m.parameter_size, ...(m.capabilities || [])].join(" ").toLowerCase().includes(needle));
  const col = COLUMNS.find((c) => c.key === view.sort.key) || COLUMNS[0];
  return rows.sort((a, b) => {
    const x = col.value(a), y = col.value(b);
    const d = x < y ? -1 : x > y ? 1 : 0;
    return d * view.sort.dir || a.name.localeCompare(b.name);
  });
}

export function renderTable(view) {
  const { get, ui } = view;
  const running = new Set((get("running") || []).map((r) => r.name));
  const selected = get("selected");
  ui.thead.replaceChildren(header(view));
  const all = get("models") || [];
  ui.countEl.textContent = String(all.length);
  const rows = shownRows(view, all);
  ui.tbody.replaceChildren(...rows.map((m) => {
    const nameCell = h("td", { class: "onb-mb-name" },
      nameText("span", "onb-mb-name-text", m.name),
      running.has(m.name) ? h("span", { class: "onb-mb-dot", title: "Loaded in memory" }) : null);
    return h("tr", { class: m.name === selected ? "onb-mb-row onb-selected" : "onb-mb-row", tabIndex: 0,
                     "aria-current": m.name === selected ? "true" : undefined, data: { act: "select", name: m.name } },
      nameCell, COLUMNS.slice(1).map((c) => h("td", { class: c.num ? "onb-num" : "", text: c.show(m) })));
  }));
  ui.table.hidden = rows.length === 0;
  // Under a "Cannot reach ..." error the list is unknown, not empty: say nothing about it.
  const err = get("error") || {};
  const unknown = all.length === 0 && !!err.message && err.action !== "pull";
  ui.empty.hidden = rows.length > 0;
  ui.empty.textContent = unknown ? "The model list could not be read (see above)."
    : all.length === 0
      ? (get("cloud") ? "No models listed." : "No models installed yet. Pull one below (try smollm2:135m, about 270 MB).")
      : `No model matches “${view.filter.trim()}”.`;
}
