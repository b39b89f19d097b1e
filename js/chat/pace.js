// Re-rendering a streaming answer's Markdown is the costly part: at most once per animation frame,
// and spaced by a few times what the last render cost, so a long answer cannot starve the page.
// Neither draws while `shown()` is false: see onceAFrame. `.resume()` draws what was owed.
export function paced(draw, life, shown = () => true) {
  let frame = 0;
  let timer = 0;
  let lastCost = 0;
  let lastAt = 0;
  let owed = false;
  const run = () => {
    frame = 0;
    owed = !shown();
    if (owed) return;
    const t0 = performance.now();
    draw();
    lastAt = performance.now();
    lastCost = lastAt - t0;
  };
  life.add(() => {
    cancelAnimationFrame(frame);
    clearTimeout(timer);
  });
  const request = () => {
    if (frame || timer) return;
    const wait = lastAt + 3 * lastCost - performance.now();
    if (wait > 0) {
      timer = setTimeout(() => {
        timer = 0;
        frame = requestAnimationFrame(run);
      }, wait);
    } else {
      frame = requestAnimationFrame(run);
    }
  };
  request.resume = () => owed && request();
  return request;
}

// A change of the transcript's traits draws on the next frame, once however many arrived: a page
// that fell behind gets a backlog of kernel messages handled in one run of microtasks, and a draw
// per message (each reading the log's layout, so laying out the whole notebook) froze JupyterLab
// for 90 s with a dozen panels open (issue 24's shape class, measured by Chromium's profiler).
// A view that is not in the page draws nothing until `.resume()`: JupyterLab renders a new view
// for each display update of the widget's output (one or two a turn), and when two come close
// together it leaves the older view running, detached; each such view drew every later turn
// (10 turns: 20 views, 400 Markdown renderers; 50 turns of formulas froze the page).
export function onceAFrame(draw, life, shown = () => true) {
  let frame = 0;
  let owed = false;
  life.add(() => cancelAnimationFrame(frame));
  const request = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      owed = !shown();
      if (!owed) draw();
    });
  };
  request.resume = () => owed && request();
  return request;
}
