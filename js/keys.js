// How both widgets keep JupyterLab's command-mode shortcuts (a, b, d d, m, y, arrows, Enter...)
// from firing while someone types in them, in one way:
//
//   keydown that starts in one of the widget's own fields (input, textarea, select, contenteditable)
//   or that the widget itself acted on (its handler called preventDefault) stops at the widget's
//   root; every other key (Escape, Ctrl+S, Shift+Enter on a button...) reaches the notebook as usual.
//
// JupyterLab (4.1+) handles shortcuts on keydown as it bubbles to the document, so stopping it at
// the root is enough; keypress/keyup carry no shortcuts and are left alone.
//
//   cleanups.push(keepKeys(root));   // after the widget's own keydown listeners on root
const FIELD = "input, textarea, select, [contenteditable]:not([contenteditable='false'])";

/** Stop keydown at `root` when it comes from one of its fields or was handled; returns the undo. */
export function keepKeys(root) {
  const onKeydown = (event) => {
    const target = event.target;
    const field = target instanceof Element && target.closest(FIELD);
    if ((field && root.contains(field)) || event.defaultPrevented) event.stopPropagation();
  };
  root.addEventListener("keydown", onKeydown);
  return () => root.removeEventListener("keydown", onKeydown);
}
