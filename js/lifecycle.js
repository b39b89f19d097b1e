// anywidget's lifecycle for a view: everything render() adds (DOM listeners, model listeners,
// timers) is registered here, and end() removes all of it; render returns that cleanup.
//
//   const life = new Lifecycle(model);
//   life.listen(button, "click", onClick);  life.watch("change:busy", renderBusy);
//   return () => life.end();
export class Lifecycle {
  constructor(model) {
    this.model = model; // the model listened to (a view adopted by another moves to its model)
    this.undo = [];
    this.watched = []; // [event, fn] on the model, moved by moveTo()
  }

  /** A DOM listener, removed at the end. */
  listen(target, type, fn, opts) {
    target.addEventListener(type, fn, opts);
    this.undo.push(() => target.removeEventListener(type, fn, opts));
  }

  /** A model listener, removed at the end (from whichever model it listens to then). */
  watch(event, fn) {
    this.model.on(event, fn);
    const entry = [event, fn];
    this.watched.push(entry);
    this.undo.push(() => this.model.off(event, fn));
  }

  /** A timer, cleared at the end. */
  later(fn, ms = 0) {
    const id = setTimeout(fn, ms);
    this.undo.push(() => clearTimeout(id));
    return id;
  }

  /** Any other undo, run at the end. */
  add(undo) {
    this.undo.push(undo);
  }

  /** Moves every model listener to another model (an adopting view's). */
  moveTo(model) {
    for (const [event, fn] of this.watched) {
      this.model.off(event, fn);
      model.on(event, fn);
    }
    this.model = model;
  }

  end() {
    for (const undo of this.undo.splice(0)) undo();
  }
}
