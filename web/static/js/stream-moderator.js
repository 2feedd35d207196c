// The moderator console's stream panel: the state, audience and health from the session's
// studio topic (which shows a speaker's rehearsal too), a muted preview over WHEP, ending the
// stream (and letting speakers back on), and the broadcast-mode switch (every player on HLS).
import { ApiError, post } from "../lib/api.js";
import { pageRealtime } from "../lib/realtime.js";
import { ReconnectingPeer } from "../lib/reconnecting-peer.js";

const STATE = { live: "Live", paused: "Paused", offline: "Offline", rehearsal: "Rehearsal", cut: "Ended by a moderator" };
const CONFIRM_MS = 5000;
const PREVIEW_RETRY_MS = [1000, 3000, 5000];
const PREVIEW_GRACE_MS = 3000;

class StreamConsole {
  constructor(root) {
    this.root = root;
    this.code = root.dataset.sessionCode;
    this.find = (name) => root.querySelector(`[data-stream-console-${name}]`);
    this.toggle = this.find("broadcast");
    this.busy = false;
    this.stream = null;
    /** @type {ReconnectingPeer | null} */
    this.preview = null;
    this.confirming = null;
  }

  start() {
    this.toggle.addEventListener("change", () => this.setBroadcast(this.toggle.checked));
    this.find("cut").addEventListener("click", () => this.cut());
    this.find("allow").addEventListener("click", () => this.setCut(false));
    addEventListener("pagehide", () => this.stopPreview());
    pageRealtime().subscribe(`session:${this.code}:studio`, {
      snapshot: (state) => this.render(state),
      event: (changes) => {
        for (const change of changes) if (change.type === "stream") this.render(change.stream);
      },
      error: (error) => this.fail(error.message),
    });
  }

  render(stream) {
    this.stream = { ...this.stream, ...stream };
    stream = this.stream;
    const live = stream.state === "live";
    const shown = stream.cut ? "cut" : live && stream.rehearsal ? "rehearsal" : stream.state;
    const badge = this.find("state");
    badge.textContent = STATE[shown] ?? shown;
    badge.className = `badge badge-${live && !stream.rehearsal ? "live" : "upcoming"}`;
    let watching = "Nobody is publishing.";
    if (stream.cut) watching = "A moderator ended the stream: no speaker can go live until you let them back on.";
    else if (live && stream.rehearsal) watching = "A speaker is rehearsing: only moderators and speakers see it, and it is not recorded.";
    else if (live) watching = `${stream.viewers} watching on WebRTC.`;
    const mode = stream.broadcast ? "Broadcast mode: the page plays HLS." : "The page plays WebRTC.";
    this.find("summary").textContent = `${watching} ${mode}`;
    this.find("health").textContent = live && stream.health ? describeHealth(stream.health) : "";
    this.find("cut").hidden = !live || Boolean(stream.cut);
    this.find("allow").hidden = !stream.cut;
    this.toggle.checked = Boolean(stream.broadcast);
    this.toggle.disabled = this.busy || "doNotStream" in this.root.dataset;
    this.follow(live);
  }

  /** Keep the preview connected while something is live (WHEP, muted, as this moderator),
   *  through the same reconnecting peer as the page's player. */
  follow(live) {
    if (live && !this.preview) this.startPreview();
    if (!live) this.stopPreview({ ended: true });
  }

  startPreview() {
    const video = this.find("preview");
    this.preview = new ReconnectingPeer(`/whep/${this.code}`, {
      delays: PREVIEW_RETRY_MS,
      graceMs: PREVIEW_GRACE_MS,
      setUp: (peer) => {
        peer.addTransceiver("video", { direction: "recvonly" });
        peer.addTransceiver("audio", { direction: "recvonly" });
        peer.ontrack = (event) => {
          video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
          video.hidden = false;
          video.play().catch(() => undefined);
        };
      },
      report: () => undefined, // the panel shows the stream's state from the studio topic
    });
    this.preview.start();
  }

  /** Close the preview; when the stream ``ended`` the server already let the viewer go. */
  stopPreview({ ended = false } = {}) {
    const preview = this.preview;
    this.preview = null;
    preview?.stop(!ended);
    const video = this.find("preview");
    video.hidden = true;
    video.srcObject = null;
  }

  /** First click asks again (the button says what it will do); the second ends the stream. */
  cut() {
    const button = this.find("cut");
    if (!this.confirming) {
      button.textContent = "Really end the stream? Click again";
      this.confirming = setTimeout(() => {
        this.confirming = null;
        button.textContent = "End the stream";
      }, CONFIRM_MS);
      return;
    }
    clearTimeout(this.confirming);
    this.confirming = null;
    button.textContent = "End the stream";
    this.setCut(true);
  }

  async setCut(cut) {
    this.find("error").textContent = "";
    try {
      await post(`/api/sessions/${this.code}/stream/cut`, { cut });
      this.find("status").textContent = cut
        ? "Stream ended. Speakers cannot go live until you let them back on."
        : "Speakers can go live again.";
      this.render({ cut });
    } catch (error) {
      this.fail(error instanceof ApiError ? error.message : String(error));
    }
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

function describeHealth(health) {
  const parts = [`${health.kbps} kbit/s`];
  if (health.video) parts.push(`${health.fps} frames/s`);
  parts.push(`${health.loss_percent} % lost`);
  if (!health.video) parts.push("no video arriving");
  if (!health.audio) parts.push("no audio arriving");
  return `Incoming: ${parts.join(" · ")}`;
}
