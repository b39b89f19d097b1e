// The one stand-in for anywidget's model in the browser tests that drive a committed bundle
// outside a kernel (lab.open_bundle_page serves it as /fake_model.js). It keeps the calls a test
// asserts on: what the view sent, what it saved, which listeners it still holds.
//
//   import { FakeModel } from "/fake_model.js";
//   const model = new FakeModel({ placeholder: "" });
//   widget.render({ model, el });  model.set("placeholder", "**hi**");  model.kernel({ type: "delta", ... });
export class FakeModel {
  constructor(state = {}, { managerId = null } = {}) {
    this.state = state;
    this.handlers = {}; // event -> listeners (a cleanup must leave none)
    this.sent = []; // custom messages the view sent to the kernel
    this.saved = 0; // save_changes() calls
    this.setCalls = 0; // set() calls (a view that applies a patch through set_state makes none)
    this.setStateCalls = 0;
    if (managerId) {
      // The widget manager's model, which set_state and state_change belong to (anywidget's
      // model is a proxy of it). `noModel`: the manager has none (a page without it).
      this.noModel = false;
      this.backbone = {
        get: (k) => this.state[k],
        set_state: (s) => {
          this.setStateCalls += 1;
          for (const [k, v] of Object.entries(s)) {
            this.state[k] = v;
            this.fire(`change:${k}`);
          }
        },
        state_change: Promise.resolve(),
      };
      this.widget_manager = { get_model: async (id) => (id === managerId && !this.noModel ? this.backbone : undefined) };
    }
  }

  get(k) {
    return this.state[k];
  }

  set(k, v) {
    this.setCalls += 1;
    this.state[k] = v;
    this.fire(`change:${k}`);
  }

  save_changes() {
    this.saved += 1;
  }

  send(msg) {
    this.sent.push(msg);
  }

  on(event, fn) {
    (this.handlers[event] ||= []).push(fn);
  }

  off(event, fn) {
    this.handlers[event] = (this.handlers[event] || []).filter((g) => g !== fn);
  }

  fire(event, ...args) {
    for (const fn of (this.handlers[event] || []).slice()) fn(...args);
  }

  /** A custom message from the kernel. */
  kernel(msg) {
    this.fire("msg:custom", msg, []);
  }

  /** How many listeners the view still holds on the model. */
  listeners() {
    return Object.values(this.handlers).reduce((n, list) => n + list.length, 0);
  }
}
