// The moderator console's stream panel: the state, audience and health from the session's
// studio topic (which shows a speaker's rehearsal too), a muted preview over WHEP, ending the
// stream (and letting speakers back on), and the broadcast-mode switch (every player on HLS).
import { ApiError, post } from "../lib/api.js";
import { pageRealtime } from "../lib/realtime.js";
import { ReconnectingPeer } from "../lib/reconnecting-peer.js";
import { formatNumber, nt, t } from "../lib/i18n.js";
import { mountLanguagesConsole } from "../lib/interpretation/languages-console.js";
import { mountConsentConsole } from "../lib/live/consent-console.js";

/** The stream's state as the panel's badge names it. */
function stateName(state) {
  switch (state) {
    case "live": return t("Live");
    case "paused": return t("Paused");
    case "offline": return t("Offline");
    case "rehearsal": return t("Rehearsal");
    case "cut": return t("Ended by a moderator");
    default: return state;
  }
}
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
    this.languages = mountLanguagesConsole(this.root, this.code);
    this.languages.update([]);
    this.consent = mountConsentConsole(this.root, this.code);
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
    this.languages.update(stream.interpretation);
    this.consent.update(stream);
    const live = stream.state === "live";
    const shown = stream.cut ? "cut" : live && stream.rehearsal ? "rehearsal" : stream.state;
    const badge = this.find("state");
    badge.textContent = stateName(shown);
    badge.className = `badge badge-${live && !stream.rehearsal ? "live" : "upcoming"}`;
    let watching = t("Nobody is publishing.");
    if (stream.cut) watching = t("A moderator ended the stream: no speaker can go live until you let them back on.");
    else if (live && stream.rehearsal) watching = t("A speaker is rehearsing: only moderators and speakers see it, and it is not recorded.");
    else if (live) watching = nt("{count} watching on WebRTC.", "{count} watching on WebRTC.", stream.viewers);
    const mode = stream.broadcast ? t("Broadcast mode: the page plays HLS.") : t("The page plays WebRTC.");
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
      button.textContent = t("Really end the stream? Click again");
      this.confirming = setTimeout(() => {
        this.confirming = null;
        button.textContent = t("End the stream");
      }, CONFIRM_MS);
      return;
    }
    clearTimeout(this.confirming);
    this.confirming = null;
    button.textContent = t("End the stream");
    this.setCut(true);
  }

  async setCut(cut) {
    this.find("error").textContent = "";
    try {
      await post(`/api/sessions/${this.code}/stream/cut`, { cut });
      this.find("status").textContent = cut
        ? t("Stream ended. Speakers cannot go live until you let them back on.")
        : t("Speakers can go live again.");
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
        ? t("Broadcast mode is on: viewers switch to HLS.")
        : t("Broadcast mode is off: viewers switch back to WebRTC.");
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
  const parts = [t("{kbps} kbit/s", { kbps: formatNumber(health.kbps) })];
  if (health.video) parts.push(t("{fps} frames/s", { fps: formatNumber(health.fps) }));
  parts.push(t("{percent} % lost", { percent: formatNumber(health.loss_percent) }));
  if (!health.video) parts.push(t("no video arriving"));
  if (!health.audio) parts.push(t("no audio arriving"));
  return t("Incoming: {details}", { details: parts.join(" · ") });
}
