// A small reconnecting client for the /ws socket.
//
// Messages are [verb, id, body]. A topic's handlers get either a snapshot (a fresh state)
// or, after a reconnect that resumed, exactly the events that were missed. Each topic
// remembers the highest sequence it has seen so a reconnect can ask for what came after.

const BACKOFF_MS = [250, 1000, 2000, 5000, 10000, 20000];
const SLOW_CLOSE_CODE = 4001; // the server dropped us for falling behind: resume at once

export function socketUrl(location = window.location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

function jittered(milliseconds) {
  return Math.round(milliseconds * (0.8 + Math.random() * 0.4));
}

export class Realtime {
  #url;
  #socket = null;
  #topics = new Map(); // topic -> { handlers, seq }
  #replies = new Map(); // message id -> topic
  #nextId = 1;
  #attempt = 0;
  #timer = null;
  #stopped = false;
  #statusListeners = new Set();
  status = "connecting";

  constructor(url = socketUrl()) {
    this.#url = url;
    window.addEventListener("online", () => this.#reconnectNow());
  }

  // handlers: { snapshot(state, seq), event(changes, seq), resumed?(count), error?({code, message}) }
  subscribe(topic, handlers) {
    this.#topics.set(topic, { handlers, seq: null });
    if (this.#socket?.readyState === WebSocket.OPEN) this.#sendSubscribe(topic);
    return this;
  }

  onStatus(listener) {
    this.#statusListeners.add(listener);
    listener(this.status);
    return this;
  }

  start() {
    this.#stopped = false;
    this.#open();
    return this;
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#socket?.close(1000, "bye");
  }

  #setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    for (const listener of this.#statusListeners) listener(status);
  }

  #open() {
    clearTimeout(this.#timer);
    this.#timer = null;
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    socket.addEventListener("open", () => this.#opened(socket));
    socket.addEventListener("message", (event) => this.#received(event.data));
    socket.addEventListener("close", (event) => this.#closed(socket, event.code));
  }

  #opened(socket) {
    if (socket !== this.#socket) return;
    this.#attempt = 0;
    this.#replies.clear();
    for (const topic of this.#topics.keys()) this.#sendSubscribe(topic);
    this.#setStatus("live");
  }

  #sendSubscribe(topic) {
    const id = this.#nextId++;
    const body = { topic };
    const seq = this.#topics.get(topic).seq;
    if (seq !== null) body.since = seq;
    this.#replies.set(id, topic);
    this.#socket.send(JSON.stringify(["subscribe", id, body]));
  }

  #received(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (!Array.isArray(message) || message.length !== 3) return;
    const [verb, idOrTopic, body] = message;
    if (verb === "event") this.#event(idOrTopic, body);
    else if (verb === "ok") this.#reply(idOrTopic, body);
    else if (verb === "error") this.#refused(idOrTopic, body);
  }

  #reply(id, body) {
    const topic = this.#replies.get(id);
    this.#replies.delete(id);
    const entry = topic && this.#topics.get(topic);
    if (!entry) return;
    if ("snapshot" in body) {
      entry.seq = body.seq;
      entry.handlers.snapshot(body.snapshot, body.seq);
    } else if ("resumed" in body) {
      // The missed frames follow this reply; each raises entry.seq as it arrives.
      entry.handlers.resumed?.(body.resumed);
    }
  }

  #refused(id, body) {
    const topic = this.#replies.get(id);
    this.#replies.delete(id);
    const entry = topic && this.#topics.get(topic);
    entry?.handlers.error?.(body);
  }

  #event(topic, body) {
    const entry = this.#topics.get(topic);
    if (!entry || typeof body?.seq !== "number") return;
    if (entry.seq !== null && body.seq <= entry.seq) return; // already seen
    entry.seq = body.seq;
    entry.handlers.event(body.changes ?? [], body.seq);
  }

  #closed(socket, code) {
    if (socket !== this.#socket) return;
    this.#socket = null;
    if (this.#stopped) return;
    this.#setStatus("reconnecting");
    const delay = code === SLOW_CLOSE_CODE && this.#attempt === 0
      ? 0
      : jittered(BACKOFF_MS[Math.min(this.#attempt, BACKOFF_MS.length - 1)]);
    this.#attempt += 1;
    this.#timer = setTimeout(() => this.#open(), delay);
  }

  #reconnectNow() {
    if (this.#stopped || this.#socket) return;
    this.#open();
  }
}
