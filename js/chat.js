// ChatWidget front end (anywidget): render({ model, el }) builds the panel and returns a cleanup
// that removes every listener it added (on the model, the DOM and timers).
//
// State: the synced traits (messages, model, models, system, think, can_think, temperature, busy,
// error, placeholder). The answer being generated is not a trait: the kernel sends it as custom
// messages, `delta` (only the new text, numbered by `seq`) and `partial` (everything so far, the
// reply to our {type: "sync"}). A view that renders mid-stream, or misses a delta, asks for a
// sync, so every view shows the same text.
//
// Model output is untrusted: it reaches the DOM only through markdown.js (marked -> DOMPurify);
// everything else is set with textContent.
import "./theme.css";
import "./markdown.css";
import "./chat.css";
import { keepKeys } from "./keys.js";
import { MarkdownStream, copyText, setMarkdown } from "./markdown.js";
import { QUOTED_TITLE, needsQuotes, shownName } from "./names.js";
import { SAVED_CHAT, watchSaved } from "./saved.js";

const STATUS_LABEL = {
  running: "answering",
  stopped: "stopped",
  interrupted: "interrupted",
  failed: "failed",
};

function node(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text != null) e.textContent = text;
  return e;
}

// Text with `code` spans (error hints name commands): the spans become <code>, all via textContent.
function withCode(tag, className, text) {
  const e = node(tag, className);
  String(text)
    .split(/(`[^`\n]+`)/)
    .forEach((piece, i) => {
      if (!piece) return;
      e.append(i % 2 ? node("code", null, piece.slice(1, -1)) : document.createTextNode(piece));
    });
  return e;
}

function copyButton(getText, name, label = "Copy") {
  const b = node("button", "onb-chat-copy", label);
  b.type = "button";
  b.title = "Copy to clipboard";
  b.setAttribute("aria-label", name);
  b.addEventListener("click", async (event) => {
    event.preventDefault();
    const ok = await copyText(getText());
    b.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => (b.textContent = label), 1500);
  });
  return b;
}

// The views of each widget model (by its `_self_id`) that this page has rendered and not yet
// cleaned up. JupyterLab renders a new view whenever the widget's output is updated (the static
// copy refreshed after every turn, an update_display_data): it empties the output and renders the
// widget again, but never cleans up the view it emptied. A new view adopts such a left-behind one
// (its root, rendered rows and listeners) instead of rendering the whole conversation again, so a
// finished turn costs the same at turn 100 as at turn 1, and only one view keeps listening.
const VIEWS = new Map(); // _self_id -> Set of { leftBehind(), adopt(model, el) -> cleanup }

function adoptLeftBehind(model, el) {
  const id = typeof model.get === "function" ? model.get("_self_id") : "";
  if (!id) return null;
  for (const view of VIEWS.get(id) || []) if (view.leftBehind()) return view.adopt(model, el);
  return null;
}

// The kernel sends each change of the transcript as a patch ({type: "messages", base, rev, start,
// items}: messages[start:] = items, see ollama_nb/_widgets/chat.py), not the whole list again. Once
// per model, it is applied to the model's own state with set_state (@jupyter-widgets/base: as if
// the kernel had synced it, so it is not sent back), where every view sees it and JupyterLab saves
// it with the notebook. Earlier messages keep their objects, so views skip them at once. A patch
// that does not start from this page's revision, or a page without the widget manager's model,
// asks for the whole state instead.
function followPatches(model) {
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

export default {
  initialize({ model }) {
    followPatches(model);
  },
  render({ model, el }) {
    return adoptLeftBehind(model, el) || renderChat(model, el);
  },
};

function renderChat(model, el) {
  const cleanups = [];
  const listen = (target, type, fn, opts) => {
    target.addEventListener(type, fn, opts);
    cleanups.push(() => target.removeEventListener(type, fn, opts));
  };
  const watched = []; // [event, fn]: moved to the adopting view's model (see adopt below)
  const watch = (event, fn) => {
    model.on(event, fn);
    watched.push([event, fn]);
    cleanups.push(() => model.off(event, fn));
  };
  const get = (key, fallback) => {
    const v = model.get(key);
    return v === undefined || v === null ? fallback : v;
  };
  const tell = (msg) => {
    if (typeof model.send === "function") model.send(msg);
  };
  const save = (key, value) => {
    model.set(key, value);
    if (typeof model.save_changes === "function") model.save_changes();
  };

  // ---------------------------------------------------------------- skeleton
  const root = node("div", "onb-root onb-chat");
  const toolbar = node("div", "onb-chat-toolbar");

  const modelSelect = node("select", "onb-chat-model");
  modelSelect.title = "Model";
  modelSelect.setAttribute("aria-label", "Model");

  const thinkLabel = node("label", "onb-chat-think");
  thinkLabel.title = "Let the model think before it answers (shown folded above the answer)";
  const thinkBox = node("input", "onb-chat-think-box");
  thinkBox.type = "checkbox";
  thinkLabel.append(thinkBox, node("span", null, "Think"));

  const tempLabel = node("label", "onb-chat-temp");
  tempLabel.title = "Temperature: 0 is focused and repeatable, higher is more varied; empty = the model's default";
  const tempInput = node("input", "onb-chat-temp-input");
  tempInput.type = "number";
  tempInput.min = "0";
  tempInput.max = "2";
  tempInput.step = "0.1";
  tempInput.placeholder = "default";
  tempLabel.append(node("span", null, "Temperature"), tempInput);

  const spacer = node("span", "onb-chat-spacer");
  const clearButton = node("button", "onb-chat-clear", "Clear");
  clearButton.type = "button";
  clearButton.title = "Forget this conversation";
  toolbar.append(modelSelect, thinkLabel, tempLabel, spacer, clearButton);

  const system = node("details", "onb-chat-system");
  const systemSummary = node("summary");
  const systemTitle = node("span", "onb-chat-system-title", "System prompt");
  const systemPreview = node("span", "onb-chat-system-preview onb-muted");
  systemSummary.append(systemTitle, systemPreview);
  const systemInput = node("textarea", "onb-chat-system-input");
  systemInput.rows = 3;
  systemInput.placeholder = "How the model should behave, e.g. “You are a patient tutor.”";
  systemInput.setAttribute("aria-label", "System prompt");
  system.append(systemSummary, systemInput);

  const banner = node("div", "onb-chat-banner");
  // One line of our own: a busy server's retry wait, or the context meter's advice.
  const notice = node("div", "onb-chat-notice");
  notice.setAttribute("role", "status");
  const log = node("div", "onb-chat-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Conversation");
  // One sentence when an answer ends ("Answer from m finished"), not every frame of it: the
  // streaming row is aria-busy, and this status says when it is whole.
  const status = node("div", "onb-sr-only");
  status.setAttribute("role", "status");
  const empty = node("div", "onb-chat-empty");
  const emptyBody = node("div", "onb-md");
  const emptyHint = node("div", "onb-muted");
  empty.append(emptyBody, emptyHint);

  const composer = node("div", "onb-chat-composer");
  const input = node("textarea", "onb-chat-input");
  input.rows = 1;
  input.placeholder = "Message";
  input.setAttribute("aria-label", "Message");
  const sendButton = node("button", "onb-chat-send onb-primary", "Send");
  sendButton.type = "button";
  composer.append(input, sendButton);
  const hint = node("div", "onb-chat-hint onb-muted", "Enter to send · Shift+Enter for a new line");

  const savedNote = node("div", "onb-saved-copy", SAVED_CHAT);
  savedNote.setAttribute("role", "note");
  savedNote.hidden = true;

  root.append(toolbar, savedNote, system, banner, log, notice, status, composer, hint);
  el.replaceChildren(root);

  // A copy restored from the saved notebook: say so, and offer no controls that cannot work.
  cleanups.push(watchSaved(model, (saved) => {
    savedNote.hidden = !saved;
    root.classList.toggle("onb-saved", saved);
    if (saved) for (const c of [input, sendButton, clearButton, modelSelect, thinkBox, tempInput, systemInput]) c.disabled = true;
  }));


  // ---------------------------------------------------------------- the transcript
  const rows = new Map(); // "turn:role" -> { sig, el, parts }
  let live = null; // { turn, seq, content, thinking }
  let echo = null; // text sent from this view that the kernel has not yet shown
  let syncAskedAt = -Infinity;

  const nearBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  const toBottom = () => {
    log.scrollTop = log.scrollHeight;
  };

  // Each body is a MarkdownStream: an update re-renders only the answer's open end, and a text
  // that did not change (the thinking once the answer starts) is not rendered again at all.
  function fillAssistant(parts, content, thinking, status) {
    parts.text = content;
    const streaming = status === "running";
    if (thinking) {
      parts.thinking.hidden = false;
      const title = streaming && !content ? "Thinking…" : "Thinking";
      if (parts.thinkingTitle.textContent !== title) parts.thinkingTitle.textContent = title;
      if (streaming && !content && !parts.keep.touched) parts.thinking.open = true;
      if (streaming && content && !parts.keep.touched) parts.thinking.open = false;
      parts.thinkingMd.set(thinking);
    } else {
      parts.thinking.hidden = true;
    }
    parts.bodyMd.set(content);
    parts.body.hidden = !content;
    parts.typing.hidden = !(streaming && !content && !thinking);
    parts.copy.hidden = !content;
    // Screen readers wait for the whole answer instead of reading every frame's half sentence.
    if (!streaming) parts.row.removeAttribute("aria-busy");
    else if (parts.row.getAttribute("aria-busy") !== "true") parts.row.setAttribute("aria-busy", "true");
  }

  function keptParts() {
    const keep = { touched: false };
    keep.thinking = node("details", "onb-thinking");
    const summary = node("summary");
    keep.thinkingTitle = node("span", null, "Thinking");
    summary.append(keep.thinkingTitle);
    keep.thinkingBody = node("div", "onb-md onb-thinking-body");
    keep.thinking.append(summary, keep.thinkingBody);
    summary.addEventListener("click", () => (keep.touched = true));
    keep.body = node("div", "onb-md onb-msg-body");
    keep.typing = node("span", "onb-typing");
    keep.typing.setAttribute("aria-hidden", "true");
    keep.typing.append(node("span"), node("span"), node("span"));
    keep.bodyMd = new MarkdownStream(keep.body);
    keep.thinkingMd = new MarkdownStream(keep.thinkingBody);
    return keep;
  }

  // `old`: the parts this message's row had before (same turn): its rendered Markdown is reused,
  // so the commit of a streamed answer re-renders only its last blocks.
  function assistantRow(msg, old) {
    const row = node("div", "onb-msg onb-msg-assistant");
    row.setAttribute("role", "article");
    row.setAttribute("aria-label", `Answer from ${msg.model ? shownName(msg.model) : "the assistant"}`);
    row.dataset.turn = msg.turn;
    row.dataset.status = msg.status || "";
    const head = node("div", "onb-msg-head");
    const who = node("span", "onb-msg-who", msg.model ? shownName(msg.model) : "Assistant");
    head.append(who);
    const label = STATUS_LABEL[msg.status];
    if (label) head.append(node("span", `onb-badge onb-badge-${msg.status}`, label));
    head.append(node("span", "onb-chat-spacer"));
    // The thinking block and the bodies (with their MarkdownStreams) outlive a row rebuild.
    const keep = old?.keep || keptParts();
    const parts = { text: "", row, keep, ...keep };
    parts.copy = copyButton(() => parts.text, `Copy the answer from ${msg.model || "the assistant"}`);
    head.append(parts.copy);
    row.append(head, parts.thinking, parts.typing, parts.body);

    if (msg.error) {
      const box = node("div", "onb-error-box");
      box.setAttribute("role", "alert");
      box.append(node("div", "onb-error-message", msg.error.message || "Something went wrong."));
      if (msg.error.hint) box.append(withCode("div", "onb-error-hint", msg.error.hint));
      row.append(box);
    }
    // The head already names the model; the stats line starts with it too.
    const stats = msg.model && msg.stats?.startsWith(`${msg.model} · `) ? msg.stats.slice(msg.model.length + 3) : msg.stats;
    if (stats) row.append(node("div", "onb-msg-foot", stats));
    fillAssistant(parts, msg.content || "", msg.thinking || "", msg.status);
    return { el: row, parts };
  }

  function userRow(msg, queued = false) {
    const row = node("div", "onb-msg onb-msg-user" + (queued ? " onb-msg-queued" : ""));
    row.setAttribute("role", "article");
    row.setAttribute("aria-label", queued ? "Your message (sending)" : "Your message");
    if (msg.turn) row.dataset.turn = msg.turn;
    const bubble = node("div", "onb-msg-bubble", msg.content || "");
    row.append(bubble);
    return { el: row, parts: {} };
  }

  function renderMessages() {
    const stick = nearBottom();
    const messages = get("messages", []);
    const seen = new Set();
    const children = [];
    for (const msg of messages) {
      const key = `${msg.turn}:${msg.role}`;
      seen.add(key);
      let row = rows.get(key);
      // The same object: unchanged (a patch keeps earlier turns' objects). Else compare the text.
      if (!row || row.msg !== msg) {
        const sig = JSON.stringify(msg);
        if (!row || row.sig !== sig) {
          row = { sig, ...(msg.role === "user" ? userRow(msg) : assistantRow(msg, row?.parts)) };
          rows.set(key, row);
        }
        row.msg = msg;
      }
      children.push(row.el);
    }
    for (const key of [...rows.keys()]) if (!seen.has(key)) rows.delete(key);

    // The answer being streamed: once committed (not running), the live copy is dropped.
    if (live) {
      const entry = messages.find((m) => m.turn === live.turn && m.role === "assistant");
      if (entry && entry.status !== "running") live = null;
    }
    if (echo !== null && messages.length > echo.count) echo = null;
    if (echo !== null) children.push(userRow({ content: echo.text }, true).el);
    if (!children.length) {
      const text = get("placeholder", "");
      setMarkdown(emptyBody, text);
      emptyBody.hidden = !text;
      const name = get("model", "");
      emptyHint.textContent = name ? `Ask ${shownName(name)} anything.` : "Pick a model, then ask anything.";
      emptyHint.hidden = !!text;
      children.push(empty);
    }
    // Only what changed moves: a row put back in place would be announced again by the log.
    children.forEach((child, i) => {
      if (log.children[i] !== child) log.insertBefore(child, log.children[i] || null);
    });
    while (log.children.length > children.length) log.lastElementChild.remove();
    renderLiveNow();
    if (stick) toBottom();
    clearButton.disabled = !messages.length;
  }

  function renderLiveNow() {
    if (!live) return;
    const row = rows.get(`${live.turn}:assistant`);
    if (!row || row.el.dataset.status !== "running") return;
    const stick = nearBottom();
    fillAssistant(row.parts, live.content, live.thinking, "running");
    if (stick) toBottom();
  }

  // Re-rendering the Markdown is the costly part: at most once per animation frame, and spaced
  // by a few times what the last render cost, so a long answer cannot starve the page.
  let frame = 0;
  let timer = 0;
  let lastCost = 0;
  let lastAt = 0;
  const drawLive = () => {
    frame = 0;
    const t0 = performance.now();
    renderLiveNow();
    lastAt = performance.now();
    lastCost = lastAt - t0;
  };
  const scheduleLive = () => {
    if (frame || timer) return;
    const wait = lastAt + 3 * lastCost - performance.now();
    if (wait > 0) {
      timer = setTimeout(() => {
        timer = 0;
        frame = requestAnimationFrame(drawLive);
      }, wait);
    } else {
      frame = requestAnimationFrame(drawLive);
    }
  };
  cleanups.push(() => {
    cancelAnimationFrame(frame);
    clearTimeout(timer);
  });

  const askSync = () => {
    const now = performance.now();
    if (now - syncAskedAt < 1000) return;
    syncAskedAt = now;
    tell({ type: "sync" });
  };

  watch("msg:custom", (msg) => {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "partial") {
      syncAskedAt = -Infinity;
      live = msg.turn
        ? { turn: msg.turn, seq: msg.seq, content: msg.content || "", thinking: msg.thinking || "" }
        : null;
      scheduleLive();
    } else if (msg.type === "delta") {
      if (!live || live.turn !== msg.turn) {
        if (msg.seq !== 1) return askSync(); // joined mid-stream: ask for what came before
        live = { turn: msg.turn, seq: 0, content: "", thinking: "" };
      }
      if (msg.seq <= live.seq) return; // already in a partial we got
      if (msg.seq !== live.seq + 1) return askSync();
      live.seq = msg.seq;
      if (msg.content) live.content += msg.content;
      if (msg.thinking) live.thinking += msg.thinking;
      scheduleLive();
    }
  });

  // ---------------------------------------------------------------- controls
  function renderModels() {
    const names = [...get("models", [])];
    const current = get("model", "");
    if (current && !names.includes(current)) names.unshift(current);
    const options = names.map((n) => {
      const o = node("option", null, shownName(n)); // the exact name is the value (names.js)
      o.value = n;
      if (needsQuotes(n)) o.title = QUOTED_TITLE;
      return o;
    });
    if (!options.length) {
      const o = node("option", null, "(no models)");
      o.value = "";
      options.push(o);
    }
    modelSelect.replaceChildren(...options);
    modelSelect.value = current;
  }

  function renderSettings() {
    thinkLabel.hidden = !get("can_think", false);
    thinkBox.checked = !!get("think", true);
    const t = get("temperature", null);
    if (document.activeElement !== tempInput) tempInput.value = t === null ? "" : String(t);
    const text = get("system", "");
    if (document.activeElement !== systemInput) systemInput.value = text;
    systemPreview.textContent = text ? text.replace(/\s+/g, " ") : "none";
  }

  let wasBusy = null; // null: the first render, which announces nothing
  function announce() {
    const busy = !!get("busy", false);
    if (wasBusy !== null && busy !== wasBusy) {
      const messages = get("messages", []);
      let last = null;
      for (let i = messages.length - 1; i >= 0 && !last; i--) if (messages[i].role === "assistant") last = messages[i];
      const who = last?.model || get("model", "") || "The model";
      if (busy) status.textContent = `${who} is answering.`;
      else if (last) {
        const ended = { done: "finished", stopped: "stopped", interrupted: "interrupted", failed: "failed" }[last.status] || "finished";
        status.textContent = `Answer from ${who} ${ended}.${last.error?.message ? " " + last.error.message : ""}`;
      }
    }
    wasBusy = busy;
  }

  function renderBusy() {
    const busy = !!get("busy", false);
    root.classList.toggle("onb-busy", busy);
    if (busy) log.setAttribute("aria-busy", "true");
    else log.removeAttribute("aria-busy");
    sendButton.textContent = busy ? "Stop" : "Send";
    sendButton.title = busy ? "Stop the answer (the part so far is kept)" : "Send (Enter)";
    sendButton.classList.toggle("onb-primary", !busy);
    sendButton.classList.toggle("onb-stop", busy);
    sendButton.disabled = false;
    if (busy) echo = null;
  }

  function renderBanner() {
    const err = get("error", {}) || {};
    banner.replaceChildren();
    banner.hidden = !err.message;
    if (err.message) {
      banner.append(node("div", "onb-error-message", err.message));
      if (err.hint) banner.append(withCode("div", "onb-error-hint", err.hint));
    }
  }

  function renderNotice() {
    const text = get("notice", "");
    notice.replaceChildren();
    notice.hidden = !text;
    if (text) notice.append(withCode("div", "onb-chat-notice-text", text));
  }

  function submit() {
    if (get("busy", false)) return;
    const text = input.value;
    if (!text.trim()) return;
    tell({ type: "send", text });
    echo = { text, count: get("messages", []).length };
    input.value = "";
    autosize();
    renderMessages();
    toBottom();
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 200) + "px";
  }

  listen(input, "keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });
  listen(input, "input", autosize);
  listen(sendButton, "click", () => {
    if (get("busy", false)) {
      tell({ type: "stop" });
      sendButton.disabled = true; // until busy goes false
    } else {
      submit();
    }
  });
  listen(clearButton, "click", () => tell({ type: "clear" }));
  listen(modelSelect, "change", () => save("model", modelSelect.value));
  let refreshedAt = -Infinity;
  listen(modelSelect, "focus", () => {
    if (performance.now() - refreshedAt > 10_000) {
      refreshedAt = performance.now();
      tell({ type: "refresh" });
    }
  });
  listen(thinkBox, "change", () => save("think", thinkBox.checked));
  listen(tempInput, "change", () => {
    const raw = tempInput.value.trim();
    const value = raw === "" ? null : Math.min(2, Math.max(0, Number(raw)));
    if (value !== null && Number.isNaN(value)) {
      renderSettings();
      return;
    }
    save("temperature", value);
    tempInput.value = value === null ? "" : String(value);
  });
  listen(systemInput, "change", () => save("system", systemInput.value));

  watch("change:messages", renderMessages);
  watch("change:placeholder", renderMessages);
  watch("change:models", renderModels);
  watch("change:model", () => {
    renderModels();
    if (!get("messages", []).length) renderMessages();
  });
  for (const key of ["can_think", "think", "temperature", "system"]) watch(`change:${key}`, renderSettings);
  watch("change:busy", () => {
    renderBusy();
    renderMessages();
    announce();
  });
  watch("change:error", renderBanner);
  watch("change:notice", renderNotice);
  cleanups.push(keepKeys(root)); // after every keydown listener of ours (see keys.js)

  renderModels();
  renderSettings();
  renderBusy();
  renderBanner();
  renderNotice();
  renderMessages();
  announce();
  tell({ type: "sync" }); // rendered mid-stream? get the answer so far

  // ---------------------------------------------------------------- adoption (see VIEWS)
  // Left behind: once shown, now taken out of its output (el has no parent) without a cleanup.
  let shown = false;
  const markShown = () => {
    if (el.parentNode) shown = true;
  };
  const shownTimer = setTimeout(markShown, 0); // JupyterLab attaches el right after render
  cleanups.push(() => clearTimeout(shownTimer));
  // What a move out of the document loses: the log's scroll position and the focused control.
  let scrolled = { top: 0, bottom: true };
  listen(log, "scroll", () => {
    scrolled = { top: log.scrollTop, bottom: nearBottom() };
  });
  let focused = null;
  listen(root, "focusin", (e) => (focused = e.target));
  listen(root, "focusout", (e) => {
    if (e.relatedTarget && !root.contains(e.relatedTarget)) focused = null;
  });

  let owner = 0; // which render call's cleanup may end this view (each adoption takes it over)
  const id = get("_self_id", "");
  const view = {
    leftBehind: () => (markShown(), shown && !el.parentNode),
    adopt(newModel, newEl) {
      for (const [event, fn] of watched) {
        model.off(event, fn);
        newModel.on(event, fn);
      }
      model = newModel;
      el = newEl;
      shown = false;
      const before = scrolled;
      const hadFocus = focused;
      el.replaceChildren(root);
      // Once the new el is in the document (right after render), put back what the move lost.
      const restore = setTimeout(() => {
        markShown();
        if (before.bottom) toBottom();
        else log.scrollTop = before.top;
        const active = document.activeElement;
        if (hadFocus && root.contains(hadFocus) && (!active || active === document.body)) hadFocus.focus({ preventScroll: true });
      }, 0);
      cleanups.push(() => clearTimeout(restore));
      renderMessages(); // a turn may have ended while no view showed it
      return cleanupFor(++owner);
    },
  };
  const cleanupFor = (token) => () => {
    if (token !== owner) return; // an adopting view owns it now
    for (const undo of cleanups.splice(0)) undo();
    root.remove();
    VIEWS.get(id)?.delete(view);
    if (VIEWS.get(id)?.size === 0) VIEWS.delete(id);
  };
  if (id) {
    if (!VIEWS.has(id)) VIEWS.set(id, new Set());
    VIEWS.get(id).add(view);
  }
  return cleanupFor(owner);
}
