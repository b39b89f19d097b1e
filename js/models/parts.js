// Small pieces of the model browser, all made with dom.js's h() (text only).
import { h } from "../dom.js";
import { QUOTED_TITLE, needsQuotes, shownName } from "../names.js";
import { parseTime, paramValue, text } from "./format.js";

/** A model name as text (names.js): quoted, with visible marks, where its spaces or invisible
 * characters would make it look like another; the exact name stays in data-name for the actions. */
export const nameText = (tag, cls, name, extra = {}) =>
  h(tag, { ...extra, class: needsQuotes(String(name ?? "")) ? `${cls} onb-name-quoted` : cls, text: shownName(name),
           title: needsQuotes(String(name ?? "")) ? QUOTED_TITLE : extra.title });

/** A button that acts (data-act) through the root's one click listener. A one-glyph button ("×")
 * is named by its title: a screen reader would read "times". */
export const button = (label, act, data = {}, extra = {}) =>
  h("button", { type: "button", class: extra.class || "", data: { act, ...data }, title: extra.title, disabled: extra.disabled,
                "aria-label": label.length <= 1 ? extra.title : undefined }, label);

export const bar = (fraction, cls = "", label = undefined) =>
  h("div", { class: `onb-mb-bar ${cls}`, role: "progressbar", "aria-label": label, "aria-valuemin": "0", "aria-valuemax": "100",
             "aria-valuenow": fraction === null || fraction === undefined ? undefined : String(Math.round(fraction * 100)) },
    h("div", { class: "onb-mb-bar-fill", style: { width: `${Math.max(0, Math.min(1, fraction || 0)) * 100}%` } }));

export function setBar(el, fraction, cls = "") {
  const f = Math.max(0, Math.min(1, fraction || 0));
  el.className = `onb-mb-bar ${cls}`;
  el.firstChild.style.width = `${f * 100}%`;
  el.setAttribute("aria-valuenow", String(Math.round(f * 100)));
}

export const COLUMNS = [
  { key: "name", label: "Name", value: (m) => m.name.toLowerCase() },
  { key: "size", label: "Size", value: (m) => +m.size || 0, num: true, show: (m) => text(m.size_text) },
  { key: "parameter_size", label: "Params", value: (m) => paramValue(m.parameter_size), num: true, show: (m) => m.parameter_size || "–" },
  { key: "quantization", label: "Quant", value: (m) => m.quantization || "", show: (m) => m.quantization || "–" },
  { key: "family", label: "Family", value: (m) => m.family || "", show: (m) => m.family || "–" },
  { key: "modified_at", label: "Modified", value: (m) => parseTime(m.modified_at) || 0, num: true, show: (m) => text(m.modified_text) },
];

export const SECTIONS = [
  ["parameters", "Parameters"],
  ["template", "Template"],
  ["system", "System prompt"],
  ["license", "License"],
  ["modelfile", "Modelfile"],
];
