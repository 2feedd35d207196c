// A small reconnecting client for the /ws socket.
//
// Messages are [verb, id, body]. A topic's handlers get either a snapshot (a fresh state)
// or, after a reconnect that resumed, exactly the events that were missed. Each
// subscription remembers the highest sequence it has seen so a reconnect can ask for what
// came after.
//
// One socket per tab: page scripts take the page's connection from pageRealtime() and
// subscribe on it, so every panel of a page shares one socket. Several panels may
// subscribe to the same topic: the server keeps one subscription for the socket and every
// event goes to each panel's handlers; each panel gets its own snapshot (a panel that joins
// a topic already live asks for a fresh one, which only it receives).

const BACKOFF_MS = [250, 1000, 2000, 5000, 10000, 20000];
const SLOW_CLOSE_CODE = 4001; // the server dropped us for falling behind: resume at once

export function socketUrl(location = window.location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

function jittered(milliseconds) {
  return Math.round(milliseconds * (0.8 + Math.random() * 0.4));
}

/** Run a panel's handler: a panel that throws must not keep the other panels from their
 * messages (its error is still reported, as an uncaught one). */
function guarded(run) {
  try {
    run();
  } catch (error) {
    if (typeof reportError === "function") reportError(error);
    else setTimeout(() => { throw error; });
  }
}

export class Realtime {
  #url;
  #socket = null;
  #topics = new Map(); // topic -> [{ handlers, seq }], one per subscribe() call
  #replies = new Map(); // message id -> { topic, subscriptions, resuming }
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
  // On an open socket the subscription goes out at once; its handlers get their own snapshot
  // (events before it are covered by the snapshot and not passed on).
  subscribe(topic, handlers) {
    const subscription = { handlers, seq: null };
    const subscriptions = this.#topics.get(topic) ?? [];
    subscriptions.push(subscription);
    this.#topics.set(topic, subscriptions);
    if (this.#socket?.readyState === WebSocket.OPEN) {
      const asking = [...this.#replies.values()].find((r) => r.topic === topic && !r.resuming);
      if (asking) asking.subscriptions.push(subscription); // a snapshot is on its way: share it
      else this.#sendSubscribe(topic, [subscription]);
    }
    return this;
  }

  onStatus(listener) {
    this.#statusListeners.add(listener);
    listener(this.status);
    return this;
  }

  /** Open the socket; does nothing while it is open or about to reconnect. */
  start() {
    if (!this.#stopped && (this.#socket || this.#timer !== null)) return this;
    this.#stopped = false;
    this.#open();
    return this;
  }

  /** Close the socket for good: on the page's connection, for every panel of the page. */
  stop() {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#socket?.close(1000, "bye");
  }

  #setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    for (const listener of this.#statusListeners) guarded(() => listener(status));
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
    for (const [topic, subscriptions] of this.#topics) this.#sendSubscribe(topic, subscriptions);
    this.#setStatus("live");
  }

  /** One request for ``subscriptions`` of ``topic``: it resumes from the oldest sequence
   * they have seen when each has seen one, else asks for a snapshot for all of them. */
  #sendSubscribe(topic, subscriptions) {
    const id = this.#nextId++;
    const body = { topic };
    const seqs = subscriptions.map((subscription) => subscription.seq);
    const resuming = seqs.every((seq) => seq !== null);
    if (resuming) body.since = Math.min(...seqs);
    this.#replies.set(id, { topic, subscriptions: [...subscriptions], resuming });
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
    const request = this.#replies.get(id);
    this.#replies.delete(id);
    if (!request) return;
    if ("snapshot" in body) {
      for (const subscription of request.subscriptions) {
        subscription.seq = body.seq;
        guarded(() => subscription.handlers.snapshot?.(body.snapshot, body.seq));
      }
    } else if ("resumed" in body) {
      // The missed frames follow this reply; each raises the subscriptions' seq as it arrives.
      for (const subscription of request.subscriptions) {
        guarded(() => subscription.handlers.resumed?.(body.resumed));
      }
    }
  }

  #refused(id, body) {
    const request = this.#replies.get(id);
    this.#replies.delete(id);
    for (const subscription of request?.subscriptions ?? []) {
      guarded(() => subscription.handlers.error?.(body));
    }
  }

  #event(topic, body) {
    const subscriptions = this.#topics.get(topic);
    if (!subscriptions || typeof body?.seq !== "number") return;
    for (const subscription of subscriptions) {
      // Before its snapshot a subscription skips events: the snapshot covers them.
      if (subscription.seq === null || body.seq <= subscription.seq) continue; // or already seen
      subscription.seq = body.seq;
      guarded(() => subscription.handlers.event?.(body.changes ?? [], body.seq));
    }
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

let shared = null;

/** The page's one connection, opened on first use: every panel of a page subscribes on it. */
export function pageRealtime() {
  shared ??= new Realtime().start();
  return shared;
}
