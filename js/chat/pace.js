// Re-rendering a streaming answer's Markdown is the costly part: at most once per animation frame,
// and spaced by a few times what the last render cost, so a long answer cannot starve the page.
export function paced(draw, life) {
  let frame = 0;
  let timer = 0;
  let lastCost = 0;
  let lastAt = 0;
  const run = () => {
    frame = 0;
    const t0 = performance.now();
    draw();
    lastAt = performance.now();
    lastCost = lastAt - t0;
  };
  life.add(() => {
    cancelAnimationFrame(frame);
    clearTimeout(timer);
  });
  return () => {
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
}

// A change of the transcript's traits draws on the next frame, once however many arrived: a page
// that fell behind gets a backlog of kernel messages handled in one run of microtasks, and a draw
// per message (each reading the log's layout, so laying out the whole notebook) froze JupyterLab
// for 90 s with a dozen panels open (issue 24's shape class, measured by Chromium's profiler).
export function onceAFrame(draw, life) {
  let frame = 0;
  life.add(() => cancelAnimationFrame(frame));
  return () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      draw();
    });
  };
}
