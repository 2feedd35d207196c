// What the break-out room's views observe: a plain object that says when it changed. The
// call (room-call.js), the room's state (room-session.js) and its clock are ones; the views'
// useObserved() renders a component again when one of them changes.

export class Observable {
  #listeners = new Set();

  /** Call ``listener`` after every change; returns what stops it. */
  subscribe(listener) {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  changed() {
    for (const listener of [...this.#listeners]) listener();
  }
}
