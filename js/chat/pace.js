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
