// The kernel sends each change of the transcript as a patch ({type: "messages", base, rev, start,
// items}: messages[start:] = items, see ollama_nb/_widgets/chat.py), not the whole list again. Once
// per model, it is applied to the model's own state with set_state (@jupyter-widgets/base: as if
// the kernel had synced it, so it is not sent back), where every view sees it and JupyterLab saves
// it with the notebook. Earlier messages keep their objects, so views skip them at once. A patch
// that does not start from this page's revision, or a page without the widget manager's model,
// asks for the whole state instead.
export function followPatches(model) {
  let backbone = null;
  let lookup = null;
  // The widget manager's model, found by `_self_id` (synced right after the comm opens, so it
  // may still be empty when this runs: looked up at the first patch).
  const find = () => {
    if (backbone || lookup) return lookup || Promise.resolve(backbone);
    const id = model.get("_self_id");
    const manager = model.widget_manager;
    if (!id || !manager || typeof manager.get_model !== "function") return Promise.resolve(null);
    lookup = Promise.resolve(manager.get_model(id))
      .then((m) => (backbone = m && typeof m.set_state === "function" ? m : null))
      .catch(() => null);
    return lookup;
  };
  const apply = (patch) => {
    if (!backbone) {
      model.send({ type: "state" });
      return;
    }
    const rev = backbone.get("_messages_rev") ?? 0;
    if (patch.rev <= rev) return; // already in a whole state we got
    const messages = backbone.get("messages") || [];
    if (patch.base !== rev || patch.start > messages.length) {
      model.send({ type: "state" });
      return;
    }
    backbone.set_state({ messages: messages.slice(0, patch.start).concat(patch.items || []), _messages_rev: patch.rev });
  };
  // A trait update is applied after a promise (ipywidgets deserializes it first), a custom message
  // at once: each patch waits for the updates that arrived before it, so they apply in order.
  let tail = Promise.resolve();
  model.on("msg:custom", (msg) => {
    if (!msg || msg.type !== "messages") return;
    const before = backbone?.state_change;
    tail = tail
      .then(find)
      .then(() => before || backbone?.state_change)
      .catch(() => {})
      .then(() => apply(msg));
  });
}
