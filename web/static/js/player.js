// The session page's live player: WHEP against /whep/<code> with the browser's own
// RTCPeerConnection. The session's live topic says when the stream is on: the player
// connects then, shows "paused" when the publisher drops, and resumes by itself.
import { Realtime } from "./realtime.js";
import { SignalingError, connect, disconnect, endSession } from "./webrtc.js";

const RETRY_MS = 5000;
const MAX_BACKOFF_MS = 30000;

class Player {
  constructor(root) {
    this.root = root;
    this.endpoint = root.dataset.whep;
    this.code = root.dataset.sessionCode;
    this.viewers = root.querySelector("[data-player-viewers]");
    this.live = false;
    this.video = root.querySelector("[data-player-video]");
    this.message = root.querySelector("[data-player-message]");
    this.badge = root.querySelector("[data-player-badge]");
    this.muteButton = root.querySelector("[data-player-mute]");
    this.peer = null;
    this.resource = null;
    this.failures = 0;
    this.timer = null;
  }

  start() {
    this.muteButton.addEventListener("click", () => this.toggleMute());
    this.root.querySelector("[data-player-fullscreen]").addEventListener("click", () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else this.root.requestFullscreen?.();
    });
    window.addEventListener("pagehide", () => this.hangUp());
    new Realtime()
      .subscribe(`session:${this.code}:live`, {
        snapshot: (state) => this.onStreamState(state),
        event: (changes) => {
          for (const change of changes) if (change.type === "stream") this.onStreamState(change.stream);
        },
      })
      .start();
  }

  onStreamState(state) {
    const wasLive = this.live;
    this.live = state.state === "live";
    this.viewers.textContent = this.live ? `${state.viewers} watching` : "";
    if (this.live) {
      if (!this.peer) this.connect();
      return;
    }
    this.hangUp();
    if (state.state === "paused") {
      this.show("paused", "The stream paused. It resumes here by itself.");
    } else if (wasLive) {
      this.show("offline", "The stream has ended.");
    } else {
      this.show("offline");
    }
  }

  show(state, text) {
    this.root.dataset.state = state;
    this.badge.textContent = state === "live" ? "Live" : state === "paused" ? "Paused" : "Offline";
    this.badge.className = `badge badge-${state === "live" ? "live" : "upcoming"}`;
    if (text !== undefined) this.message.textContent = text;
    this.message.hidden = state === "live";
  }

  toggleMute() {
    this.video.muted = !this.video.muted;
    this.muteButton.textContent = this.video.muted ? "Unmute" : "Mute";
    this.muteButton.setAttribute("aria-pressed", String(this.video.muted));
  }

  retry(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.live) this.connect();
    }, delay);
  }

  async connect() {
    this.hangUp();
    const peer = new RTCPeerConnection();
    this.peer = peer;
    peer.addTransceiver("video", { direction: "recvonly" });
    peer.addTransceiver("audio", { direction: "recvonly" });
    const stream = new MediaStream();
    peer.addEventListener("track", (event) => {
      stream.addTrack(event.track);
      this.video.srcObject = stream;
    });
    peer.addEventListener("connectionstatechange", () => {
      if (this.peer !== peer) return;
      if (peer.connectionState === "connected") {
        this.failures = 0;
        this.show("live");
      } else if (["failed", "disconnected", "closed"].includes(peer.connectionState)) {
        this.show("paused", "The stream paused. Reconnecting…");
        this.retry(RETRY_MS);
      }
    });
    try {
      const resource = await connect(peer, this.endpoint);
      if (this.peer === peer) this.resource = resource;
      else endSession(resource);
    } catch (error) {
      if (this.peer !== peer) return;
      if (error instanceof SignalingError && error.status === 409) {
        this.show("offline");
        this.retry((error.retryAfter ?? RETRY_MS / 1000) * 1000);
        return;
      }
      this.failures += 1;
      this.show("paused", "Cannot reach the stream. Trying again…");
      this.retry(Math.min(RETRY_MS * 2 ** this.failures, MAX_BACKOFF_MS));
    }
  }

  hangUp() {
    disconnect(this.peer, this.resource);
    this.peer = null;
    this.resource = null;
  }
}

const root = document.querySelector("[data-player]");
if (root) new Player(root).start();
