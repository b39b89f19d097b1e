// The details pane of the selected model: capabilities, facts, actions (with the Copy / Delete
// prompt, view.pending), and the folded template, license and Modelfile.
import { h } from "../dom.js";
import { count } from "./format.js";
import { SECTIONS, button, nameText } from "./parts.js";

function facts(d) {
  const out = [];
  const fact = (label, value) => {
    if (value) out.push(h("div", { class: "onb-mb-fact" }, h("span", { class: "onb-mb-fact-label", text: label }), h("span", { class: "onb-mb-fact-value", text: value })));
  };
  fact("Context length", d.context_length ? `${count(d.context_length)} tokens` : "");
  fact("Parameters", d.parameter_size ? d.parameter_size + (d.parameter_count ? ` (${count(d.parameter_count)})` : "") : "");
  fact("Quantization", d.quantization);
  fact("Architecture", d.architecture);
  fact("Family", (d.families && d.families.length > 1 ? d.families.join(", ") : d.family) || "");
  fact("Format", d.format);
  fact("Embedding length", d.embedding_length ? count(d.embedding_length) : "");
  fact("Parent model", d.parent_model);
  fact("Remote", d.remote_host ? `${d.remote_model || ""} @ ${d.remote_host}` : "");
  fact("Modified", d.modified_text || "");
  return out;
}

function actions(view, name, capabilities) {
  const { get } = view;
  const cloud = get("cloud");
  const isRunning = (get("running") || []).some((r) => r.name === name);
  return h("div", { class: "onb-mb-actions" },
    get("chat_available") && !(capabilities.length && !capabilities.includes("completion"))
      ? button("Try it", "try", { name }, { class: "onb-primary", title: "Open a chat with this model below" }) : null,
    cloud ? null : isRunning ? button("Unload", "unload", { name }, { title: "Free its memory now (keep_alive=0)" })
      : button("Load", "load", { name }, { title: "Load it into memory now" }),
    cloud ? null : button("Copy…", "ask-copy", { name }, { title: "Copy under a new name" }),
    cloud ? null : button("Delete…", "ask-delete", { name }, { class: "onb-danger", title: "Delete from the server" }));
}

function prompt(view, name) {
  const { pending, ui } = view;
  if (!pending || pending.name !== name) return null;
  if (pending.kind === "copy") {
    return h("div", { class: "onb-mb-prompt", role: "group", "aria-label": "Copy model" },
      h("label", { text: "New name" }), ui.copyInput,
      button("Copy", "do-copy", { name }, { class: "onb-primary" }), button("Cancel", "cancel-prompt"));
  }
  return h("div", { class: "onb-mb-prompt onb-mb-prompt-danger", role: "group", "aria-label": "Delete model" },
    h("span", {}, "Delete ", nameText("strong", "onb-mb-prompt-name", name), " from the server? This cannot be undone."),
    button("Delete", "do-delete", { name }, { class: "onb-danger-solid" }), button("Keep", "cancel-prompt"));
}

export function renderDetails(view) {
  const { get, ui } = view;
  const pane = ui.detailsPane;
  const name = get("selected");
  const d = get("details") || {};
  const open = new Set(pane.dataset.name === name ? [...pane.querySelectorAll("details[open]")].map((x) => x.dataset.key) : []);
  pane.dataset.name = name || "";
  if (!name) {
    pane.replaceChildren(h("div", { class: "onb-mb-placeholder onb-muted" }, "Select a model to see its capabilities, context length, parameters, template and license."));
    return;
  }
  const ready = d.name === name && !d.loading && !d.failed;
  const capabilities = ready ? d.capabilities || [] : [];
  const badges = h("div", { class: "onb-mb-badges" }, capabilities.map((c) => h("span", { class: `onb-badge onb-badge-${c.replace(/[^a-z0-9-]/gi, "")}`, text: c })));
  const known = ready ? facts(d) : [];
  const sections = ready ? SECTIONS.filter(([k]) => d[k]).map(([k, label]) =>
    h("details", { class: "onb-mb-more", data: { key: k }, open: open.has(k) },
      h("summary", { text: label }), h("pre", { class: "onb-mb-pre", text: d[k] }))) : [];
  pane.replaceChildren(...[
    h("div", { class: "onb-mb-details-head" }, nameText("h3", "onb-mb-details-name", name), button("×", "select", { name: "" }, { class: "onb-mb-x", title: "Close details" })),
    d.failed && d.name === name ? h("div", { class: "onb-error", text: "Could not load the details." })
      : !ready ? h("div", { class: "onb-muted onb-mb-loading", text: "Loading details…" }) : badges,
    known.length ? h("div", { class: "onb-mb-facts" }, known) : null,
    actions(view, name, capabilities), prompt(view, name), sections.length ? h("div", { class: "onb-mb-sections" }, sections) : null,
  ].filter(Boolean));
}
