// ModelBrowser front end (anywidget). Durable state comes from synced traitlets (models, running,
// selected, details, pulls, error, notice, busy, cloud, quota); every action goes to Python as a
// custom message ({action, ...}). View-only state (sort, filter, an open Copy/Delete prompt) stays here.
//
// Model names, licenses, templates and Modelfiles are untrusted text: they reach the DOM only
// through dom.js's h() (textContent and attributes), never as markup. A name is sent back exactly
// as the server listed it (from data-name); it is shown through names.js.
//
//   models/skeleton.js  the elements          models/table.js    the sorted, filtered table
//   models/head.js      header, messages, quota   models/details.js  the selected model
//   models/running.js   ps and its countdown   models/pulls.js    pull cards
//   models/actions.js   clicks and keys        models/parts.js, models/format.js  pieces, units
//
// Lifecycle (lifecycle.js): model listeners, one delegated listener per event type on the root,
// and one timer (the countdown); the function render returns removes all of them.
import "./theme.css";
import "./models.css";
import { keepKeys } from "./keys.js";
import { Lifecycle } from "./lifecycle.js";
import { actions } from "./models/actions.js";
import { renderDetails } from "./models/details.js";
import { renderHead, renderMessages, renderQuota } from "./models/head.js";
import { pullCards } from "./models/pulls.js";
import { renderRunning, tick } from "./models/running.js";
import { skeleton } from "./models/skeleton.js";
import { renderTable } from "./models/table.js";
import { watchSaved } from "./saved.js";

export default {
  render({ model, el }) {
    const life = new Lifecycle(model);
    const ui = skeleton();
    const view = {
      ui,
      get: (k) => model.get(k),
      send: (msg) => model.send(msg),
      sort: { key: "modified_at", dir: -1 }, // newest first, as `ollama list`
      filter: "",
      pending: null, // {kind: "copy" | "delete", name}
    };
    el.replaceChildren(ui.root);
    // A copy restored from the saved notebook: say so; its buttons could reach nothing.
    life.add(watchSaved(model, (saved) => {
      ui.savedNote.hidden = !saved;
      ui.root.classList.toggle("onb-saved", saved);
      if (saved) for (const b of ui.root.querySelectorAll("button, input")) b.disabled = true;
      // What was loaded, with a countdown to its unload, was true only when the notebook was saved.
      if (saved) ui.runningSection.hidden = true;
    }));

    const render = {
      head: () => renderHead(view),
      messages: () => renderMessages(view),
      quota: () => renderQuota(view),
      table: () => renderTable(view),
      details: () => renderDetails(view),
      running: () => renderRunning(view),
      pulls: pullCards(view),
    };
    for (const [type, fn] of Object.entries(actions(view, render))) life.listen(ui.root, type, fn);
    life.add(keepKeys(ui.root));

    const watch = (event, ...draws) => life.watch(event, () => draws.forEach((d) => d()));
    watch("change:models", render.table, render.details);
    watch("change:running", render.running, render.table, render.details);
    watch("change:selected", () => (view.pending = null), render.table, render.details);
    watch("change:details", render.details);
    watch("change:chat_available", render.details);
    watch("change:pulls", render.pulls);
    watch("change:error", render.messages, render.table);
    watch("change:notice", render.messages);
    watch("change:quota", render.quota);
    watch("change:busy", render.head);
    watch("change:host", render.head);
    watch("change:cloud", render.head, render.table, render.details);

    for (const draw of ["head", "messages", "quota", "table", "details", "running", "pulls"]) render[draw]();
    const timer = setInterval(() => tick(view), 1000);
    life.add(() => clearInterval(timer));
    // Tells Python where this view's messages come from (see ModelBrowser._context).
    view.send({ action: "hello" });
    return () => {
      life.end();
      ui.root.remove();
    };
  },
};
