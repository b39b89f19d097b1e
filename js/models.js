// ModelBrowser front end (anywidget). Durable state comes from synced traitlets (models, running,
// selected, details, pulls, error, notice, busy, cloud); every action goes to Python as a custom
// message ({action, ...}). View-only state (sort, filter, an open Copy/Delete prompt) stays here.
//
// Model names, licenses, templates and Modelfiles are untrusted text: they reach the DOM only
// through textContent and attributes (dataset/title), never through innerHTML. A name is sent back
// exactly as the server listed it (from data-name); it is shown through names.js.
//
// Lifecycle: render() registers its model listeners, one delegated listener per event type on the
// root, and one timer (the "expires in" countdown); the function it returns removes all of them.
import "./theme.css";
import "./models.css";
import { keepKeys } from "./keys.js";
import { SAVED_MODELS, watchSaved } from "./saved.js";
import { QUOTED_TITLE, needsQuotes, shownName } from "./names.js";

// ---------------------------------------------------------------- formatting

// Sizes, times "ago" and pull progress come from the kernel as text (the `*_text` fields, made by
// ollama_nb/_format.py), so they read the same as in %ollama and the static table. Only the
// "expires in" countdown is made here, since it ticks without the kernel; it follows
// format.expires_in exactly (tests/browser/test_models_view.py holds the two equal).
const text = (value) => (value === undefined || value === null || value === "" ? "–" : String(value));

// RFC 3339 with nanoseconds (Go) -> ms since the epoch; Date.parse wants at most milliseconds.
const parseTime = (stamp) => {
  if (!stamp) return NaN;
  return Date.parse(String(stamp).replace(/(\.\d{3})\d+/, "$1"));
};

// format.duration of a whole number of seconds (the countdown's), Python's rounding included.
const duration = (secs) => {
  if (secs < 60) return `${secs.toFixed(1)} s`;
  const m = Math.floor(secs / 60);
  const sec = secs % 60;
  if (m < 60) return sec ? `${m} min ${sec} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
};

// format.expires_in, counted in whole seconds (so a tick never shows a fraction).
const expiresIn = (stamp, now = Date.now()) => {
  const t = parseTime(stamp);
  if (Number.isNaN(t)) return "–";
  const secs = Math.floor((t - now) / 1000);
  if (secs > 10 * 365 * 86400) return "forever";
  if (secs <= 0) return "now";
  return `in ${duration(secs)}`;
};

const count = (n) => (n ? Number(n).toLocaleString("en-US") : "–");

// "3.2B" / "134.52M" -> a number, for sorting by parameter size
const paramValue = (text) => {
  const m = /^([\d.]+)\s*([KMBT]?)/i.exec(text || "");
  if (!m) return -1;
  return parseFloat(m[1]) * ({ "": 1, K: 1e3, M: 1e6, B: 1e9, T: 1e12 }[m[2].toUpperCase()] || 1);
};

// ---------------------------------------------------------------- DOM helpers (text only)

// Props that could turn a server's string into markup, a handler or a URL are refused outright.
const UNSAFE_PROP = /^(on|innerHTML$|outerHTML$|srcdoc$|href$|src$|action$|formaction$)/i;

function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (UNSAFE_PROP.test(k)) throw new Error(`h(): refusing to set ${k}`);
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k === "data") Object.assign(el.dataset, v);
    else if (k === "style") Object.assign(el.style, v);
    else if (k in el && typeof el[k] !== "function" && !k.startsWith("aria")) el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Text with `code` spans (hints name commands): the spans become <code>, all via textContent.
const withCode = (cls, text) =>
  h("div", { class: cls }, String(text).split(/(`[^`\n]+`)/).filter(Boolean)
    .map((piece) => (piece.length > 2 && piece.startsWith("`") && piece.endsWith("`") ? h("code", { text: piece.slice(1, -1) }) : piece)));

// A model name as text (names.js): quoted, with visible marks, where its spaces or invisible
// characters would make it look like another; the exact name stays in data-name for the actions.
const nameText = (tag, cls, name, extra = {}) =>
  h(tag, { ...extra, class: needsQuotes(String(name ?? "")) ? `${cls} onb-name-quoted` : cls, text: shownName(name),
           title: needsQuotes(String(name ?? "")) ? QUOTED_TITLE : extra.title });

// A one-glyph button ("×") is named by its title: a screen reader would read "times".
const button = (text, act, data = {}, extra = {}) =>
  h("button", { type: "button", class: extra.class || "", data: { act, ...data }, title: extra.title, disabled: extra.disabled,
                "aria-label": text.length <= 1 ? extra.title : undefined }, text);

const bar = (fraction, cls = "", label = undefined) =>
  h("div", { class: `onb-mb-bar ${cls}`, role: "progressbar", "aria-label": label, "aria-valuemin": "0", "aria-valuemax": "100",
             "aria-valuenow": fraction === null || fraction === undefined ? undefined : String(Math.round(fraction * 100)) },
    h("div", { class: "onb-mb-bar-fill", style: { width: `${Math.max(0, Math.min(1, fraction || 0)) * 100}%` } }));

const COLUMNS = [
  { key: "name", label: "Name", value: (m) => m.name.toLowerCase() },
  { key: "size", label: "Size", value: (m) => +m.size || 0, num: true, show: (m) => text(m.size_text) },
  { key: "parameter_size", label: "Params", value: (m) => paramValue(m.parameter_size), num: true, show: (m) => m.parameter_size || "–" },
  { key: "quantization", label: "Quant", value: (m) => m.quantization || "", show: (m) => m.quantization || "–" },
  { key: "family", label: "Family", value: (m) => m.family || "", show: (m) => m.family || "–" },
  { key: "modified_at", label: "Modified", value: (m) => parseTime(m.modified_at) || 0, num: true, show: (m) => text(m.modified_text) },
];

const SECTIONS = [
  ["parameters", "Parameters"],
  ["template", "Template"],
  ["system", "System prompt"],
  ["license", "License"],
  ["modelfile", "Modelfile"],
];

export default {
  render({ model, el }) {
    // view-only state
    let sortKey = "modified_at";
    let sortDir = -1; // newest first, as `ollama list`
    let filter = "";
    let pending = null; // {kind: "copy" | "delete", name}

    const send = (msg) => model.send(msg);
    const get = (k) => model.get(k);

    // ---- skeleton (persistent elements keep focus and typed text across updates)
    const root = h("div", { class: "onb-root onb-models" });
    const title = h("span", { class: "onb-mb-title", text: "Ollama models" });
    const countEl = h("span", { class: "onb-mb-count", title: "Models on this server" });
    const hostEl = h("span", { class: "onb-mb-host onb-muted" });
    const busyEl = h("span", { class: "onb-mb-busy onb-muted", role: "status" });
    const filterInput = h("input", { type: "search", class: "onb-mb-filter", placeholder: "Filter models…", "aria-label": "Filter models", spellcheck: false });
    const refreshBtn = button("Refresh", "refresh", {}, { class: "onb-mb-refresh", title: "Reload the list from the server" });
    const head = h("div", { class: "onb-mb-head" }, h("div", { class: "onb-mb-titles" }, title, countEl, hostEl), busyEl, h("div", { class: "onb-mb-spacer" }), filterInput, refreshBtn);
    const messages = h("div", { class: "onb-mb-messages" });
    const thead = h("thead");
    const tbody = h("tbody");
    const table = h("table", { class: "onb-mb-table" }, thead, tbody);
    const empty = h("div", { class: "onb-mb-empty onb-muted" });
    const tableWrap = h("div", { class: "onb-mb-tablewrap" }, table, empty);
    const detailsPane = h("aside", { class: "onb-mb-details", "aria-label": "Model details" });
    const main = h("div", { class: "onb-mb-main" }, tableWrap, detailsPane);
    const runningBody = h("div", { class: "onb-mb-running-body" });
    const runningSection = h("section", { class: "onb-mb-section onb-mb-running" }, h("h3", { text: "Running" }), runningBody);
    const pullInput = h("input", { type: "text", class: "onb-mb-pull-name", placeholder: "Model to pull, e.g. llama3.2 or qwen3:8b", "aria-label": "Model to pull", spellcheck: false, autocomplete: "off" });
    const pullBtn = button("Pull", "pull", {}, { class: "onb-primary onb-mb-pull-btn" });
    const pullsEl = h("div", { class: "onb-mb-pulls" });
    const pullSection = h("section", { class: "onb-mb-section onb-mb-pull" }, h("h3", { text: "Pull a model" }), h("div", { class: "onb-mb-pull-form" }, pullInput, pullBtn), pullsEl);
    const copyInput = h("input", { type: "text", class: "onb-mb-copy-name", "aria-label": "New name", spellcheck: false, autocomplete: "off" });
    // Ollama Cloud's plan limits (session, weekly) from /api/usage; hidden without them.
    const quotaBody = h("div", { class: "onb-mb-quota-body" });
    const quotaSection = h("section", { class: "onb-mb-section onb-mb-quota" }, h("h3", { text: "Usage" }), quotaBody);
    const savedNote = h("div", { class: "onb-saved-copy", role: "note", text: SAVED_MODELS, hidden: true });
    root.append(head, savedNote, messages, quotaSection, main, runningSection, pullSection);
    el.replaceChildren(root);
    // A copy restored from the saved notebook: say so; its buttons could reach nothing.
    const stopWatching = watchSaved(model, (saved) => {
      savedNote.hidden = !saved;
      root.classList.toggle("onb-saved", saved);
      if (saved) for (const b of root.querySelectorAll("button, input")) b.disabled = true;
      // What was loaded, with a countdown to its unload, was true only when the notebook was saved.
      if (saved) runningSection.hidden = true;
    });

    // ---- header and messages
    function renderHead() {
      const cloud = get("cloud");
      title.textContent = cloud ? "Ollama Cloud models" : "Ollama models";
      hostEl.textContent = get("host") || "";
      const busy = get("busy") || "";
      busyEl.textContent = busy;
      busyEl.classList.toggle("onb-mb-spinning", !!busy);
      refreshBtn.disabled = busy.startsWith("Refreshing");
      runningSection.hidden = !!cloud;
      pullSection.hidden = !!cloud;
    }

    function renderMessages() {
      const err = get("error") || {};
      const notice = get("notice") || "";
      const items = [];
      if (err.message) {
        items.push(h("div", { class: "onb-mb-msg onb-mb-msg-error", role: "alert" },
          h("div", { class: "onb-mb-msg-text" }, h("strong", { text: err.message }), err.hint ? withCode("onb-mb-hint", err.hint) : null),
          button("×", "clear", {}, { class: "onb-mb-x", title: "Dismiss" })));
      }
      if (notice) {
        items.push(h("div", { class: "onb-mb-msg onb-mb-msg-notice", role: "status" },
          h("div", { class: "onb-mb-msg-text", text: notice }), button("×", "clear", {}, { class: "onb-mb-x", title: "Dismiss" })));
      }
      messages.replaceChildren(...items);
    }

    // ---- the quota panel
    function renderQuota() {
      const rows = get("quota") || [];
      quotaSection.hidden = rows.length === 0;
      quotaBody.replaceChildren(...rows.map((r) => {
        const full = typeof r.fraction === "number" && r.fraction >= 0.9;
        return h("div", { class: "onb-mb-quota-row", data: { limit: r.limit } },
          h("span", { class: "onb-mb-quota-name", text: r.limit }),
          bar(typeof r.fraction === "number" ? r.fraction : null, full ? "onb-mb-bar-failed" : "", `${r.limit} usage`),
          h("span", { class: "onb-mb-quota-used", text: r.used }),
          h("span", { class: "onb-mb-quota-resets onb-muted", text: r.resets ? `resets ${r.resets}` : "" }));
      }));
    }

    // ---- the table
    function renderTable() {
      const running = new Set((get("running") || []).map((r) => r.name));
      const selected = get("selected");
      thead.replaceChildren(h("tr", {}, COLUMNS.map((c) =>
        h("th", { class: c.num ? "onb-num" : "", scope: "col", "aria-sort": c.key === sortKey ? (sortDir > 0 ? "ascending" : "descending") : "none" },
          h("button", { type: "button", class: "onb-mb-sort", data: { act: "sort", key: c.key }, title: `Sort by ${c.label.toLowerCase()}` },
            c.label, h("span", { class: "onb-mb-arrow", "aria-hidden": "true", text: c.key === sortKey ? (sortDir > 0 ? "▲" : "▼") : "" }))))));
      const all = get("models") || [];
      countEl.textContent = String(all.length);
      const needle = filter.trim().toLowerCase();
      const rows = all.filter((m) => !needle || [m.name, m.family, m.quantization, m.parameter_size, ...(m.capabilities || [])].join(" ").toLowerCase().includes(needle));
      const col = COLUMNS.find((c) => c.key === sortKey) || COLUMNS[0];
      rows.sort((a, b) => {
        const x = col.value(a), y = col.value(b);
        const d = x < y ? -1 : x > y ? 1 : 0;
        return d * sortDir || a.name.localeCompare(b.name);
      });
      tbody.replaceChildren(...rows.map((m) => {
        const nameCell = h("td", { class: "onb-mb-name" },
          nameText("span", "onb-mb-name-text", m.name),
          running.has(m.name) ? h("span", { class: "onb-mb-dot", title: "Loaded in memory" }) : null);
        return h("tr", { class: m.name === selected ? "onb-mb-row onb-selected" : "onb-mb-row", tabIndex: 0, "aria-current": m.name === selected ? "true" : undefined, data: { act: "select", name: m.name } },
          nameCell, COLUMNS.slice(1).map((c) => h("td", { class: c.num ? "onb-num" : "", text: c.show(m) })));
      }));
      table.hidden = rows.length === 0;
      // Under a "Cannot reach ..." error the list is unknown, not empty: say nothing about it.
      const unknown = all.length === 0 && !!(get("error") || {}).message && (get("error") || {}).action !== "pull";
      empty.hidden = rows.length > 0;
      empty.textContent = unknown ? "The model list could not be read (see above)."
        : all.length === 0
          ? (get("cloud") ? "No models listed." : "No models installed yet. Pull one below (try smollm2:135m, about 270 MB).")
          : `No model matches “${filter.trim()}”.`;
    }

    // ---- the details pane
    function renderDetails() {
      const name = get("selected");
      const d = get("details") || {};
      const open = new Set(detailsPane.dataset.name === name ? [...detailsPane.querySelectorAll("details[open]")].map((x) => x.dataset.key) : []);
      detailsPane.dataset.name = name || "";
      if (!name) {
        detailsPane.replaceChildren(h("div", { class: "onb-mb-placeholder onb-muted" }, "Select a model to see its capabilities, context length, parameters, template and license."));
        return;
      }
      const cloud = get("cloud");
      const isRunning = (get("running") || []).some((r) => r.name === name);
      const ready = d.name === name && !d.loading && !d.failed;
      const caps = ready ? d.capabilities || [] : [];
      const badges = h("div", { class: "onb-mb-badges" }, caps.map((c) => h("span", { class: `onb-badge onb-badge-${c.replace(/[^a-z0-9-]/gi, "")}`, text: c })));
      const facts = [];
      const fact = (label, value) => {
        if (value) facts.push(h("div", { class: "onb-mb-fact" }, h("span", { class: "onb-mb-fact-label", text: label }), h("span", { class: "onb-mb-fact-value", text: value })));
      };
      if (ready) {
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
      }
      const actions = h("div", { class: "onb-mb-actions" },
        get("chat_available") && !(caps.length && !caps.includes("completion"))
          ? button("Try it", "try", { name }, { class: "onb-primary", title: "Open a chat with this model below" }) : null,
        cloud ? null : isRunning ? button("Unload", "unload", { name }, { title: "Free its memory now (keep_alive=0)" })
          : button("Load", "load", { name }, { title: "Load it into memory now" }),
        cloud ? null : button("Copy…", "ask-copy", { name }, { title: "Copy under a new name" }),
        cloud ? null : button("Delete…", "ask-delete", { name }, { class: "onb-danger", title: "Delete from the server" }));
      let prompt = null;
      if (pending && pending.name === name && pending.kind === "copy") {
        prompt = h("div", { class: "onb-mb-prompt", role: "group", "aria-label": "Copy model" },
          h("label", { text: "New name" }), copyInput,
          button("Copy", "do-copy", { name }, { class: "onb-primary" }), button("Cancel", "cancel-prompt"));
      } else if (pending && pending.name === name && pending.kind === "delete") {
        prompt = h("div", { class: "onb-mb-prompt onb-mb-prompt-danger", role: "group", "aria-label": "Delete model" },
          h("span", {}, "Delete ", nameText("strong", "onb-mb-prompt-name", name), " from the server? This cannot be undone."),
          button("Delete", "do-delete", { name }, { class: "onb-danger-solid" }), button("Keep", "cancel-prompt"));
      }
      const sections = ready ? SECTIONS.filter(([k]) => d[k]).map(([k, label]) =>
        h("details", { class: "onb-mb-more", data: { key: k }, open: open.has(k) },
          h("summary", { text: label }), h("pre", { class: "onb-mb-pre", text: d[k] }))) : [];
      detailsPane.replaceChildren(...[
        h("div", { class: "onb-mb-details-head" }, nameText("h3", "onb-mb-details-name", name), button("×", "select", { name: "" }, { class: "onb-mb-x", title: "Close details" })),
        d.failed && d.name === name ? h("div", { class: "onb-error", text: "Could not load the details." })
          : !ready ? h("div", { class: "onb-muted onb-mb-loading", text: "Loading details…" }) : badges,
        facts.length ? h("div", { class: "onb-mb-facts" }, facts) : null,
        actions, prompt, sections.length ? h("div", { class: "onb-mb-sections" }, sections) : null,
      ].filter(Boolean));
    }

    // ---- running models (ps)
    function tick() {
      const now = Date.now();
      for (const span of runningBody.querySelectorAll("[data-expires]")) span.textContent = expiresIn(span.dataset.expires, now);
    }

    function renderRunning() {
      const rows = get("running") || [];
      if (!rows.length) {
        runningBody.replaceChildren(h("div", { class: "onb-muted onb-mb-none", text: "No model is loaded. Select one and press Load, or just use it." }));
        return;
      }
      const tr = (r) => {
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
      };
      runningBody.replaceChildren(h("table", { class: "onb-mb-table onb-mb-ps" },
        h("thead", {}, h("tr", {}, ["Name", "In memory", "Processor", "Context", "Expires", ""].map((t, i) => h("th", { class: i === 1 || i === 3 ? "onb-num" : "", text: t })))),
        h("tbody", {}, rows.map(tr))));
    }

    // ---- pulls: cards are updated in place, never rebuilt, so a Cancel button that moves
    // under the pointer between mousedown and mouseup (several updates a second) still clicks.
    const cards = new Map(); // name -> {el, status, pct, btn, bar, info, err, layers, rows}
    const STATE_TEXT = { done: "pulled", stopped: "cancelled", failed: "failed", interrupted: "interrupted" };

    function setBar(el, fraction, cls = "") {
      const f = Math.max(0, Math.min(1, fraction || 0));
      el.className = `onb-mb-bar ${cls}`;
      el.firstChild.style.width = `${f * 100}%`;
      el.setAttribute("aria-valuenow", String(Math.round(f * 100)));
    }

    function makeCard(name) {
      const c = {
        status: h("span", { class: "onb-mb-pullstatus" }),
        pct: h("span", { class: "onb-mb-pct" }),
        btn: h("button", { type: "button", data: { name } }),
        bar: bar(0, "", `Pull of ${shownName(name)}`),
        info: h("div", { class: "onb-mb-pullinfo onb-muted" }),
        err: h("div", { class: "onb-mb-pullerror onb-error" }),
        layers: h("div", { class: "onb-mb-layers" }),
        rows: [],
      };
      c.el = h("div", { class: "onb-mb-pullcard", data: { name } },
        h("div", { class: "onb-mb-pullhead" }, nameText("strong", "onb-mb-pullname", name), c.status, h("span", { class: "onb-mb-spacer" }), c.pct, c.btn),
        c.bar, c.info, c.err, c.layers);
      return c;
    }

    function updateCard(c, p) {
      const running = p.state === "running";
      const fraction = p.state === "done" ? 1 : p.total ? p.completed / p.total : 0;
      c.el.className = `onb-mb-pullcard onb-mb-state-${p.state}`;
      c.status.textContent = running ? p.status || "starting" : STATE_TEXT[p.state] || p.state;
      c.pct.textContent = p.total || p.state === "done" ? `${Math.floor(fraction * 100)}%` : "";
      const act = running ? "cancel" : "dismiss";
      if (c.btn.dataset.act !== act) {
        c.btn.dataset.act = act;
        c.btn.textContent = running ? "Cancel" : "×";
        c.btn.className = running ? "onb-mb-cancel" : "onb-mb-x";
        c.btn.title = running ? "Stop the download (nothing is installed)" : "Dismiss";
        if (running) c.btn.removeAttribute("aria-label");
        else c.btn.setAttribute("aria-label", `Dismiss the pull of ${shownName(p.name)}`);
        c.btn.disabled = false;
      }
      setBar(c.bar, fraction, p.state === "failed" ? "onb-mb-bar-failed" : p.state === "done" ? "onb-mb-bar-done" : "");
      c.bar.hidden = !running && !p.total && p.state !== "done"; // a pull that failed before any byte
      c.info.textContent = p.info_text || "";
      c.info.hidden = !p.info_text;
      const failed = p.state === "failed" && p.message;
      c.err.hidden = !failed;
      if (failed && c.err.dataset.message !== p.message) {
        c.err.dataset.message = p.message;
        c.err.replaceChildren(h("div", { text: p.message }), p.hint ? withCode("onb-mb-hint", p.hint) : "");
      }
      const layers = p.layers || [];
      c.layers.hidden = !layers.length;
      layers.forEach((l, i) => {
        let r = c.rows[i];
        if (!r) {
          r = { digest: h("code", { class: "onb-mb-digest" }), bar: bar(0, "", `Layer ${i + 1} of ${shownName(p.name)}`), bytes: h("span", { class: "onb-mb-layer-bytes onb-muted" }) };
          r.el = h("div", { class: "onb-mb-layer" }, r.digest, r.bar, r.bytes);
          c.rows.push(r);
          c.layers.append(r.el);
        }
        r.digest.textContent = l.digest;
        setBar(r.bar, l.total ? l.completed / l.total : 0, "onb-mb-bar-small");
        r.bytes.textContent = l.bytes_text || "";
      });
      while (c.rows.length > layers.length) c.rows.pop().el.remove();
    }

    function renderPulls() {
      const pulls = get("pulls") || {};
      for (const [name, c] of cards) {
        if (!(name in pulls)) { c.el.remove(); cards.delete(name); }
      }
      Object.values(pulls).forEach((p, i) => {
        let c = cards.get(p.name);
        if (!c) { c = makeCard(p.name); cards.set(p.name, c); }
        updateCard(c, p);
        if (pullsEl.children[i] !== c.el) pullsEl.insertBefore(c.el, pullsEl.children[i] || null);
      });
    }

    // ---- actions (one delegated listener per event type)
    function startPull() {
      const name = pullInput.value.trim();
      if (!name) { pullInput.focus(); return; }
      send({ action: "pull", name });
      pullInput.value = "";
    }

    function doCopy(src) {
      const dst = copyInput.value.trim();
      if (!dst) { copyInput.focus(); return; }
      send({ action: "copy", src, dst });
      pending = null;
      renderDetails();
    }

    function onClick(e) {
      const target = e.target.closest("[data-act]");
      if (!target || !root.contains(target) || target.disabled) return;
      const { act, name, key } = target.dataset;
      switch (act) {
        case "sort":
          if (sortKey === key) sortDir = -sortDir;
          else { sortKey = key; sortDir = key === "name" || key === "family" || key === "quantization" ? 1 : -1; }
          renderTable();
          break;
        case "select":
          if (name !== get("selected")) { pending = null; send({ action: "select", name: name || "" }); }
          break;
        case "refresh": send({ action: "refresh" }); break;
        case "pull": startPull(); break;
        case "cancel": target.disabled = true; send({ action: "cancel", name }); break;
        case "dismiss": send({ action: "dismiss", name }); break;
        case "clear": send({ action: "clear" }); break;
        case "load": send({ action: "load", name }); break;
        case "unload": send({ action: "unload", name }); break;
        case "try": send({ action: "try", name }); break;
        case "ask-copy":
          pending = { kind: "copy", name };
          // a suggestion to edit: the new name is typed, so it is trimmed when sent
          copyInput.value = `${name.trim().replace(/:latest$/, "")}-copy`;
          renderDetails();
          copyInput.focus();
          copyInput.select();
          break;
        case "ask-delete":
          pending = { kind: "delete", name };
          renderDetails();
          detailsPane.querySelector("[data-act=cancel-prompt]")?.focus();
          break;
        case "cancel-prompt": pending = null; renderDetails(); break;
        case "do-copy": doCopy(name); break;
        case "do-delete": pending = null; send({ action: "delete", name }); renderDetails(); break;
      }
    }

    // Keys the browser acts on call preventDefault, so keepKeys (keys.js) keeps them from the notebook.
    function onKeydown(e) {
      const t = e.target;
      if (e.key === "Enter" && t === pullInput) { e.preventDefault(); startPull(); }
      else if (e.key === "Enter" && t === copyInput) { e.preventDefault(); doCopy(pending && pending.name); }
      else if (e.key === "Escape" && pending) { e.preventDefault(); pending = null; renderDetails(); }
      else if (e.key === "Escape" && t === filterInput) { e.preventDefault(); filterInput.value = ""; filter = ""; renderTable(); }
      else if (t.classList && t.classList.contains("onb-mb-row")) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); send({ action: "select", name: t.dataset.name }); }
        else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
          e.preventDefault();
          const next = e.key === "ArrowDown" ? t.nextElementSibling : t.previousElementSibling;
          if (next) { next.focus(); send({ action: "select", name: next.dataset.name }); }
        }
      }
    }

    function onInput(e) {
      if (e.target === filterInput) { filter = filterInput.value; renderTable(); }
    }

    root.addEventListener("click", onClick);
    root.addEventListener("keydown", onKeydown);
    root.addEventListener("input", onInput);
    const unkeep = keepKeys(root);

    // ---- model listeners
    const onModels = () => { renderTable(); renderDetails(); };
    const onRunning = () => { renderRunning(); renderTable(); renderDetails(); };
    const onSelected = () => { pending = null; renderTable(); renderDetails(); };
    const listeners = [
      ["change:models", onModels],
      ["change:running", onRunning],
      ["change:selected", onSelected],
      ["change:details", renderDetails],
      ["change:chat_available", renderDetails],
      ["change:pulls", renderPulls],
      ["change:error", () => { renderMessages(); renderTable(); }],
      ["change:notice", renderMessages],
      ["change:quota", renderQuota],
      ["change:busy", renderHead],
      ["change:host", renderHead],
      ["change:cloud", () => { renderHead(); renderTable(); renderDetails(); }],
    ];
    for (const [event, fn] of listeners) model.on(event, fn);

    renderHead();
    renderMessages();
    renderQuota();
    renderTable();
    renderDetails();
    renderRunning();
    renderPulls();
    const timer = setInterval(tick, 1000);
    // Tells Python where this view's messages come from (see ModelBrowser._context).
    send({ action: "hello" });

    return () => {
      stopWatching();
      clearInterval(timer);
      for (const [event, fn] of listeners) model.off(event, fn);
      root.removeEventListener("click", onClick);
      root.removeEventListener("keydown", onKeydown);
      root.removeEventListener("input", onInput);
      unkeep();
      root.remove();
    };
  },
};
