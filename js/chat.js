// ChatWidget front end (anywidget): render({ model, el }) builds the panel and returns a cleanup
// that removes every listener it added (on the model, the DOM and timers: lifecycle.js).
//
// State: the synced traits (messages, model, models, system, think, can_think, temperature, busy,
// error, notice, placeholder); the answer being generated arrives as custom messages
// (chat/transcript.js). Model output is untrusted: it reaches the DOM only through markdown.js
// (marked -> DOMPurify); everything else is made with dom.js's h(), as text.
//
//   chat/patches.js     the transcript's patches, applied to the model's state once per model
//   chat/skeleton.js    the panel's elements
//   chat/rows.js        one message's row
//   chat/transcript.js  the log: committed messages and the live answer
//   chat/pace.js        how often the live answer is drawn
//   chat/controls.js    toolbar, banner, notice, composer, status line
//   chat/views.js       a new view adopts the one JupyterLab left behind
import "./theme.css";
import "./markdown.css";
import "./chat.css";
import { followPatches } from "./chat/patches.js";
import { controls } from "./chat/controls.js";
import { onceAFrame, paced } from "./chat/pace.js";
import { skeleton } from "./chat/skeleton.js";
import { transcript } from "./chat/transcript.js";
import { adoptLeftBehind, adoptable } from "./chat/views.js";
import { keepKeys } from "./keys.js";
import { Lifecycle } from "./lifecycle.js";
import { watchSaved } from "./saved.js";

export default {
  initialize({ model }) {
    followPatches(model);
  },
  render({ model, el }) {
    return adoptLeftBehind(model, el) || renderChat(model, el);
  },
};

function renderChat(model, el) {
  const life = new Lifecycle(model);
  // Draws wait while the view is out of the page (pace.js), and are made once it is back.
  const shown = () => view.el.isConnected;
  const owing = [];
  const ui = skeleton();
  el.replaceChildren(ui.root);
  const view = {
    life,
    ui,
    el,
    get: (key, fallback) => {
      const v = life.model.get(key);
      return v === undefined || v === null ? fallback : v;
    },
    tell: (msg) => {
      if (typeof life.model.send === "function") life.model.send(msg);
    },
    save: (key, value) => {
      life.model.set(key, value);
      if (typeof life.model.save_changes === "function") life.model.save_changes();
    },
    paced: (draw) => owing.push(paced(draw, life, shown)) && owing.at(-1),
  };

  // A copy restored from the saved notebook: say so, and offer no controls that cannot work.
  life.add(watchSaved(model, (saved) => {
    ui.savedNote.hidden = !saved;
    ui.root.classList.toggle("onb-saved", saved);
    if (saved) for (const c of ui.controls) c.disabled = true;
  }));

  const t = transcript(view, ui);
  const c = controls(view, ui, t);
  const redraw = onceAFrame(t.render, life, shown);
  owing.push(redraw);
  const back = new IntersectionObserver(() => shown() && owing.forEach((draw) => draw.resume()));
  back.observe(ui.root);
  life.add(() => back.disconnect());
  Object.assign(view, { rerender: redraw, nearBottom: t.nearBottom, toBottom: t.toBottom });
  life.watch("msg:custom", t.onCustom);
  c.listen(life);
  life.watch("change:messages", () => {
    t.settle();
    redraw();
  });
  life.watch("change:placeholder", t.render); // rare, and a caller may read the result at once
  life.watch("change:models", c.renderModels);
  life.watch("change:model", () => {
    c.renderModels();
    if (!view.get("messages", []).length) redraw();
  });
  for (const key of ["can_think", "think", "temperature", "system"]) life.watch(`change:${key}`, c.renderSettings);
  life.watch("change:busy", () => {
    c.renderBusy();
    redraw();
    c.announce();
  });
  life.watch("change:error", c.renderBanner);
  life.watch("change:notice", c.renderNotice);
  life.add(keepKeys(ui.root)); // after every keydown listener of ours (see keys.js)

  c.renderModels();
  c.renderSettings();
  c.renderBusy();
  c.renderBanner();
  c.renderNotice();
  if (shown()) t.render();
  else redraw(); // JupyterLab puts el in the page after render, if it keeps this view at all
  c.announce();
  view.tell({ type: "sync" }); // rendered mid-stream? get the answer so far
  return adoptable(view.get("_self_id", ""), view);
}
