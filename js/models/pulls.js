// Pull progress: one card per pull, updated in place, never rebuilt, so a Cancel button that moves
// under the pointer between mousedown and mouseup (several updates a second) still clicks.
import { h, withCode } from "../dom.js";
import { shownName } from "../names.js";
import { bar, nameText, setBar } from "./parts.js";

const STATE_TEXT = { done: "pulled", stopped: "cancelled", failed: "failed", interrupted: "interrupted" };

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

function updateButton(c, p, running) {
  const act = running ? "cancel" : "dismiss";
  if (c.btn.dataset.act === act) return;
  c.btn.dataset.act = act;
  c.btn.textContent = running ? "Cancel" : "×";
  c.btn.className = running ? "onb-mb-cancel" : "onb-mb-x";
  c.btn.title = running ? "Stop the download (nothing is installed)" : "Dismiss";
  if (running) c.btn.removeAttribute("aria-label");
  else c.btn.setAttribute("aria-label", `Dismiss the pull of ${shownName(p.name)}`);
  c.btn.disabled = false;
}

function updateLayers(c, p) {
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

function updateCard(c, p) {
  const running = p.state === "running";
  const fraction = p.state === "done" ? 1 : p.total ? p.completed / p.total : 0;
  c.el.className = `onb-mb-pullcard onb-mb-state-${p.state}`;
  c.status.textContent = running ? p.status || "starting" : STATE_TEXT[p.state] || p.state;
  c.pct.textContent = p.total || p.state === "done" ? `${Math.floor(fraction * 100)}%` : "";
  updateButton(c, p, running);
  setBar(c.bar, fraction, p.state === "failed" ? "onb-mb-bar-failed" : p.state === "done" ? "onb-mb-bar-done" : "");
  c.bar.hidden = !running && !p.total && p.state !== "done"; // a pull that failed before any byte
  c.info.textContent = p.info_text || "";
  c.info.hidden = !p.info_text;
  const failed = p.state === "failed" && p.message;
  c.err.hidden = !failed;
  if (failed && c.err.dataset.message !== p.message) {
    c.err.dataset.message = p.message;
    c.err.replaceChildren(...[h("div", { text: p.message }), p.hint ? withCode("div", "onb-mb-hint", p.hint) : null].filter(Boolean));
  }
  updateLayers(c, p);
}

/** The cards of this view: render() brings them in line with the `pulls` trait. */
export function pullCards(view) {
  const cards = new Map(); // name -> card
  return () => {
    const pulls = view.get("pulls") || {};
    for (const [name, c] of cards) {
      if (!(name in pulls)) {
        c.el.remove();
        cards.delete(name);
      }
    }
    Object.values(pulls).forEach((p, i) => {
      let c = cards.get(p.name);
      if (!c) {
        c = makeCard(p.name);
        cards.set(p.name, c);
      }
      updateCard(c, p);
      const list = view.ui.pullsEl;
      if (list.children[i] !== c.el) list.insertBefore(c.el, list.children[i] || null);
    });
  };
}
