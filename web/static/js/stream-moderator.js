// The moderator console's stream panel: the live state and audience from the session's
// live topic, and the broadcast-mode switch (every page player on HLS).
import { ApiError, post } from "./api.js";
import { Realtime } from "./realtime.js";

const STATE = { live: "Live", paused: "Paused", offline: "Offline" };

class StreamConsole {
  constructor(root) {
    this.root = root;
    this.code = root.dataset.sessionCode;
    this.find = (name) => root.querySelector(`[data-stream-console-${name}]`);
    this.toggle = this.find("broadcast");
    this.busy = false;
    this.stream = null;
  }

  start() {
    this.toggle.addEventListener("change", () => this.setBroadcast(this.toggle.checked));
    new Realtime()
      .subscribe(`session:${this.code}:live`, {
        snapshot: (state) => this.render(state),
        event: (changes) => {
          for (const change of changes) if (change.type === "stream") this.render(change.stream);
        },
        error: (error) => this.fail(error.message),
      })
      .start();
  }

  render(stream) {
    this.stream = stream;
    const badge = this.find("state");
    badge.textContent = STATE[stream.state] ?? stream.state;
    badge.className = `badge badge-${stream.state === "live" ? "live" : "upcoming"}`;
    const watching = stream.state === "live" ? `${stream.viewers} watching on WebRTC` : "Nobody is publishing.";
    const mode = stream.broadcast ? "Broadcast mode: the page plays HLS." : "The page plays WebRTC.";
    this.find("summary").textContent = `${watching} ${mode}`;
    this.toggle.checked = Boolean(stream.broadcast);
    this.toggle.disabled = this.busy || "doNotStream" in this.root.dataset;
  }

  async setBroadcast(broadcast) {
    if (this.busy) return;
    this.busy = true;
    this.toggle.disabled = true;
    this.find("error").textContent = "";
    try {
      const stream = await post(`/api/sessions/${this.code}/stream/broadcast`, { broadcast });
      this.find("status").textContent = broadcast
        ? "Broadcast mode is on: viewers switch to HLS."
        : "Broadcast mode is off: viewers switch back to WebRTC.";
      this.busy = false;
      this.render(stream);
    } catch (error) {
      this.busy = false;
      this.fail(error instanceof ApiError ? error.message : String(error));
      if (this.stream) this.render(this.stream);
    }
  }

  fail(message) {
    this.find("error").textContent = message;
  }
}

const root = document.querySelector("[data-stream-console]");
if (root) new StreamConsole(root).start();
