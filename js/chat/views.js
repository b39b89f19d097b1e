// The views of each widget model (by its `_self_id`) that this page has rendered and not yet
// cleaned up. JupyterLab renders a new view whenever the widget's output is updated (the static
// copy refreshed after every turn, an update_display_data): it empties the output and renders the
// widget again, but never cleans up the view it emptied. A new view adopts such a left-behind one
// (its root, rendered rows and listeners) instead of rendering the whole conversation again, so a
// finished turn costs the same at turn 100 as at turn 1, and only one view keeps listening.
const VIEWS = new Map(); // _self_id -> Set of { leftBehind(), adopt(model, el) -> cleanup }

/** A left-behind view of this model, moved into `el` (its cleanup), or null. */
export function adoptLeftBehind(model, el) {
  const id = typeof model.get === "function" ? model.get("_self_id") : "";
  if (!id) return null;
  for (const view of VIEWS.get(id) || []) if (view.leftBehind()) return view.adopt(model, el);
  return null;
}

/**
 * Makes a rendered view adoptable; returns its cleanup. `view` holds `life` (its Lifecycle),
 * `el`, `ui` (root, log) and `rerender()`, `nearBottom()`, `toBottom()`.
 */
export function adoptable(id, view) {
  const { life, ui } = view;
  // Left behind: once shown, now taken out of its output (el has no parent) without a cleanup.
  let shown = false;
  const markShown = () => {
    if (view.el.parentNode) shown = true;
  };
  life.later(markShown); // JupyterLab attaches el right after render
  // What a move out of the document loses: the log's scroll position and the focused control.
  let scrolled = { top: 0, bottom: true };
  life.listen(ui.log, "scroll", () => (scrolled = { top: ui.log.scrollTop, bottom: view.nearBottom() }));
  let focused = null;
  life.listen(ui.root, "focusin", (e) => (focused = e.target));
  life.listen(ui.root, "focusout", (e) => {
    if (e.relatedTarget && !ui.root.contains(e.relatedTarget)) focused = null;
  });

  let owner = 0; // which render call's cleanup may end this view (each adoption takes it over)
  const entry = {
    leftBehind: () => (markShown(), shown && !view.el.parentNode),
    adopt(model, el) {
      life.moveTo(model);
      view.el = el;
      shown = false;
      const before = scrolled;
      const hadFocus = focused;
      el.replaceChildren(ui.root);
      // Once the new el is in the document (right after render), put back what the move lost.
      life.later(() => {
        markShown();
        if (before.bottom) view.toBottom();
        else ui.log.scrollTop = before.top;
        const active = document.activeElement;
        if (hadFocus && ui.root.contains(hadFocus) && (!active || active === document.body)) hadFocus.focus({ preventScroll: true });
      });
      view.rerender(); // a turn may have ended while no view showed it
      return cleanupFor(++owner);
    },
  };
  const cleanupFor = (token) => () => {
    if (token !== owner) return; // an adopting view owns it now
    life.end();
    ui.root.remove();
    VIEWS.get(id)?.delete(entry);
    if (VIEWS.get(id)?.size === 0) VIEWS.delete(id);
  };
  if (id) {
    if (!VIEWS.has(id)) VIEWS.set(id, new Set());
    VIEWS.get(id).add(entry);
  }
  return cleanupFor(owner);
}
