// A view restored from a notebook's saved widget state has no kernel behind it: JupyterLab and
// Notebook 7 rebuild the model from the saved state (anywidget's ES module included) and render it,
// but nothing answers. The widget syncs its own model id (`_self_id`), so the view can ask the widget
// manager for its model and read `comm_live` (public in @jupyter-widgets/base): false for a saved copy
// (kernel shut down, or a fresh kernel that never created it), true while the kernel owns it, and it
// turns false when the kernel goes away.

// onChange(saved: boolean) is called once when known, then whenever the kernel link changes.
// Returns a cleanup function. Without a widget manager (a stand-in page) it never calls back.
export function watchSaved(model, onChange) {
  const manager = model.widget_manager;
  const id = model.get("_self_id");
  let stopped = false;
  let backbone = null;
  const report = () => {
    if (!stopped && backbone) onChange(backbone.comm_live === false);
  };
  if (id && manager && typeof manager.get_model === "function") {
    Promise.resolve(manager.get_model(id))
      .then((m) => {
        if (stopped || !m) return;
        backbone = m;
        if (typeof m.on === "function") m.on("comm_live_update", report);
        report();
      })
      .catch(() => {});
  }
  return () => {
    stopped = true;
    if (backbone && typeof backbone.off === "function") backbone.off("comm_live_update", report);
  };
}

export const SAVED_CHAT =
  "Saved copy: this is the chat as it was when the notebook was saved; no kernel is connected to it. " +
  "Run its cell again to continue (a named conversation, ChatWidget(conversation=...), picks up where it stopped).";
export const SAVED_MODELS =
  "Saved copy: the model list as it was when the notebook was saved; no kernel is connected to it. " +
  "Run its cell again to see the server's models live and use the buttons.";
