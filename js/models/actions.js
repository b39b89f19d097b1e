// What the user does: one delegated listener per event type on the root. Every action goes to
// Python as a custom message ({action, ...}); sort, filter and the open prompt stay in the view.
export function actions(view, render) {
  const { get, send, ui } = view;

  const startPull = () => {
    const name = ui.pullInput.value.trim();
    if (!name) return ui.pullInput.focus();
    send({ action: "pull", name });
    ui.pullInput.value = "";
  };

  const doCopy = (src) => {
    const dst = ui.copyInput.value.trim();
    if (!dst) return ui.copyInput.focus();
    send({ action: "copy", src, dst });
    view.pending = null;
    render.details();
  };

  const sortBy = (key) => {
    if (view.sort.key === key) view.sort.dir = -view.sort.dir;
    else view.sort = { key, dir: key === "name" || key === "family" || key === "quantization" ? 1 : -1 };
    render.table();
  };

  const ask = (kind, name) => {
    view.pending = { kind, name };
    if (kind === "copy") ui.copyInput.value = `${name.trim().replace(/:latest$/, "")}-copy`; // typed: trimmed when sent
    render.details();
    if (kind === "copy") {
      ui.copyInput.focus();
      ui.copyInput.select();
    } else {
      ui.detailsPane.querySelector("[data-act=cancel-prompt]")?.focus();
    }
  };

  const SENT = new Set(["refresh", "dismiss", "clear", "load", "unload", "try"]);
  function onClick(e) {
    const target = e.target.closest("[data-act]");
    if (!target || !ui.root.contains(target) || target.disabled) return;
    const { act, name, key } = target.dataset;
    if (SENT.has(act)) return send(act === "refresh" || act === "clear" ? { action: act } : { action: act, name });
    if (act === "sort") sortBy(key);
    else if (act === "select" && name !== get("selected")) {
      view.pending = null;
      send({ action: "select", name: name || "" });
    } else if (act === "pull") startPull();
    else if (act === "cancel") {
      target.disabled = true;
      send({ action: "cancel", name });
    } else if (act === "ask-copy") ask("copy", name);
    else if (act === "ask-delete") ask("delete", name);
    else if (act === "cancel-prompt") {
      view.pending = null;
      render.details();
    } else if (act === "do-copy") doCopy(name);
    else if (act === "do-delete") {
      view.pending = null;
      send({ action: "delete", name });
      render.details();
    }
  }

  // Keys the browser acts on call preventDefault, so keepKeys (keys.js) keeps them from the notebook.
  function onRowKey(e, row) {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      send({ action: "select", name: row.dataset.name });
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const next = e.key === "ArrowDown" ? row.nextElementSibling : row.previousElementSibling;
      if (next) {
        next.focus();
        send({ action: "select", name: next.dataset.name });
      }
    }
  }

  function onKeydown(e) {
    const t = e.target;
    if (e.key === "Enter" && t === ui.pullInput) { e.preventDefault(); startPull(); }
    else if (e.key === "Enter" && t === ui.copyInput) { e.preventDefault(); doCopy(view.pending && view.pending.name); }
    else if (e.key === "Escape" && view.pending) { e.preventDefault(); view.pending = null; render.details(); }
    else if (e.key === "Escape" && t === ui.filterInput) { e.preventDefault(); ui.filterInput.value = ""; view.filter = ""; render.table(); }
    else if (t.classList && t.classList.contains("onb-mb-row")) onRowKey(e, t);
  }

  function onInput(e) {
    if (e.target === ui.filterInput) {
      view.filter = ui.filterInput.value;
      render.table();
    }
  }
  return { click: onClick, keydown: onKeydown, input: onInput };
}
