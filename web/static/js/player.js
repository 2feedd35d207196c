// The session page's live player. WebRTC first (WHEP against /whep/<code> with the
// browser's own RTCPeerConnection: half a second behind the room); LL-HLS (/hls/<code>/
// index.m3u8, a few seconds behind, through any HTTP cache) when WebRTC cannot connect
// twice in a row, when the session is in broadcast mode, or when the address says
// ?player=hls. The session's live topic says when the stream is on: the player connects
// then, shows "paused" when the publisher drops, and resumes by itself.
import { pageRealtime } from "../lib/realtime.js";
import { followStream } from "../lib/session-state.js";
import { ReconnectingPeer } from "../lib/reconnecting-peer.js";
import { SignalingError } from "../lib/webrtc.js";
import { nt, t } from "../lib/i18n.js";
import { mountCaptions } from "../lib/captions/overlay.js";
import { ChannelPicker } from "../lib/interpretation/channel-picker.js";

const RETRY_MS = 5000;
const MAX_BACKOFF_MS = 30000;
const CONNECT_LIMIT_MS = 8000;
/** WebRTC offers that get no answer before the player turns to HLS; an answered offer whose
 *  media path never opens (UDP blocked on the way) turns it to HLS at once. */
const HLS_AFTER_FAILURES = 2;
const HLS_JS = "/static/vendor/hls.js/hls.min.mjs";
const HLS_TYPE = "application/vnd.apple.mpegurl";

/** Safari plays HLS itself (and LL-HLS best); elsewhere hls.js feeds Media Source
 *  Extensions, and a browser's own HLS is the last resort. */
function hlsEngine(video) {
  const native = video.canPlayType(HLS_TYPE) !== "";
  if (native && navigator.vendor.startsWith("Apple")) return "native";
  if (window.MediaSource || "ManagedMediaSource" in window) return "hls.js"; // Safari 17+
  return native ? "native" : null;
}

class Player {
  constructor(root) {
    this.root = root;
    this.endpoint = root.dataset.whep;
    this.playlist = root.dataset.hls;
    this.code = root.dataset.sessionCode;
    this.viewers = root.querySelector("[data-player-viewers]");
    this.live = false;
    this.video = root.querySelector("[data-player-video]");
    this.message = root.querySelector("[data-player-message]");
    this.badge = root.querySelector("[data-player-badge]");
    this.muteButton = root.querySelector("[data-player-mute]");
    this.transportLabel = root.querySelector("[data-player-transport]");
    this.slate = root.querySelector("[data-player-slate]");
    this.offRecord = !this.slate.hidden;
    this.asked = new URLSearchParams(window.location.search).get("player");
    this.broadcast = root.dataset.mode === "broadcast";
    /** @type {ReconnectingPeer | null} */
    this.webrtc = null;
    this.hls = null;
    this.playing = null;
    this.failures = 0;
    this.timer = null;
  }

  start() {
    mountCaptions(this.root, this.code);
    this.channels = new ChannelPicker(this.root, this.code, this.video);
    this.muteButton.addEventListener("click", () => this.toggleMute());
    this.root.querySelector("[data-player-fullscreen]").addEventListener("click", () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else this.root.requestFullscreen?.();
    });
    this.video.addEventListener("playing", () => {
      if (this.playing === "hls") this.show("live");
    });
    this.video.addEventListener("error", () => {
      if (this.playing !== "hls" || this.hls) return; // hls.js reports its own errors
      this.stop();
      this.show("paused", t("The stream paused. Reconnecting…"));
      this.retry(RETRY_MS);
    });
    window.addEventListener("pagehide", () => this.stop());
    pageRealtime().subscribe(`session:${this.code}:live`, {
      snapshot: (state) => this.onStreamState(state),
      event: (changes) => {
        for (const change of changes) if (change.type === "stream") this.onStreamState(change.stream);
      },
    });
  }

  /** Which transport the next connection uses. */
  transport() {
    if (this.asked === "hls" || this.asked === "webrtc") return this.asked;
    if (this.broadcast || this.failures >= HLS_AFTER_FAILURES) return "hls";
    return "webrtc";
  }

  onStreamState(state) {
    const wasLive = this.live;
    this.live = state.state === "live";
    this.channels.update(state.interpretation, this.live);
    const session = this.root.closest("[data-session]");
    if (session) followStream(session, state.state);
    this.viewers.textContent = this.live ? nt("{count} watching", "{count} watching", state.viewers) : "";
    if (state.broadcast !== undefined && state.broadcast !== this.broadcast) {
      this.broadcast = state.broadcast;
      if (this.live && this.playing && this.playing !== this.transport()) this.play();
    }
    if (state.audio_only) this.root.dataset.audioOnly = t("Audio only: the speakers may be heard, not seen.");
    else delete this.root.dataset.audioOnly;
    this.setOffRecord(this.live && Boolean(state.off_record));
    if (this.live) {
      if (this.root.hidden) this.reveal();
      // HLS has nothing to package off the record: it starts again when the segment ends.
      if (!this.playing && !(this.offRecord && this.transport() === "hls")) this.play();
      return;
    }
    this.stop();
    if (state.state === "paused") {
      this.show("paused", t("The stream paused. It resumes here by itself."));
    } else if (wasLive) {
      this.show("offline", t("The stream has ended."));
    } else {
      this.show("offline");
    }
  }

  /** Off the record the server sends nothing: a slate says so. WebRTC stays connected and
   *  resumes with the next keyframe; HLS is stopped and played again afterwards. */
  setOffRecord(off) {
    if (off === this.offRecord) return;
    this.offRecord = off;
    this.slate.hidden = !off;
    if (off && this.playing === "hls") this.stop();
  }

  /** An ended session's page keeps a hidden player: its stream may still start late. */
  reveal() {
    this.root.hidden = false;
    const ended = /** @type {HTMLElement | null} */ (document.querySelector("[data-session-replays]"));
    if (ended) ended.hidden = true;
  }

  show(state, text) {
    this.root.dataset.state = state;
    this.badge.textContent = state === "live" ? t("Live") : state === "paused" ? t("Paused") : t("Offline");
    this.badge.className = `badge badge-${state === "live" ? "live" : "upcoming"}`;
    if (text !== undefined) this.message.textContent = text;
    this.message.hidden = state === "live";
  }

  toggleMute() {
    this.video.muted = !this.video.muted;
    this.muteButton.textContent = this.video.muted ? t("Unmute") : t("Mute");
    this.muteButton.setAttribute("aria-pressed", String(this.video.muted));
  }

  retry(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.live) this.play();
    }, delay);
  }

  play() {
    const transport = this.transport();
    this.root.dataset.transport = transport;
    if (this.transportLabel) {
      this.transportLabel.textContent = transport === "hls" ? "HLS" : "WebRTC";
      this.transportLabel.title =
        transport === "hls"
          ? t("Over HLS: a few seconds behind the room")
          : t("Over WebRTC: about half a second behind the room");
    }
    if (transport === "hls") this.playHls();
    else this.connect();
  }

  /** What to do when WebRTC did not bring (or keep) the stream: wait for it, offer again,
   *  or, after enough attempts that brought no media, turn to HLS.
   *  @param {import("../lib/reconnecting-peer.js").Problem} problem
   *  @returns {import("../lib/reconnecting-peer.js").Verdict} */
  verdict({ kind, error, after }) {
    if (kind === "refused" && error instanceof SignalingError && error.status === 409) {
      this.show("offline"); // nothing to watch yet
      return (error.retryAfter ?? RETRY_MS / 1000) * 1000;
    }
    if (kind === "dropped") {
      this.show("paused", t("The stream paused. Reconnecting…"));
      return after === "disconnected" ? 0 : RETRY_MS;
    }
    // An answered offer whose media path never opens (UDP blocked on the way) counts double.
    this.failures = kind === "unreachable" ? Math.max(this.failures + 1, HLS_AFTER_FAILURES) : this.failures + 1;
    if (this.transport() === "hls") {
      this.show("paused", t("Switching to the HLS stream…"));
      this.retry(0);
      return "stop";
    }
    this.show("paused", t("Cannot reach the stream. Trying again…"));
    return Math.min(1000 * 2 ** (this.failures - 1), MAX_BACKOFF_MS);
  }

  connect() {
    this.stop();
    this.playing = "webrtc";
    const webrtc = new ReconnectingPeer(this.endpoint, {
      setUp: (peer) => {
        const stream = new MediaStream();
        peer.addTransceiver("video", { direction: "recvonly" });
        peer.addTransceiver("audio", { direction: "recvonly" });
        peer.addEventListener("track", (event) => {
          if (webrtc.peer !== peer) return;
          stream.addTrack(event.track);
          this.video.srcObject = stream;
        });
      },
      delays: [RETRY_MS],
      graceMs: RETRY_MS,
      connectLimitMs: CONNECT_LIMIT_MS,
      verdict: (problem) => this.verdict(problem),
      report: (state, problem) => {
        if (this.webrtc !== webrtc) return;
        if (state === "connected") {
          this.failures = 0;
          this.show("live");
        } else if (problem?.kind === "disconnected") {
          this.show("paused", t("The stream paused. Reconnecting…"));
        }
      },
    });
    this.webrtc = webrtc;
    return webrtc.start();
  }

  async playHls() {
    this.stop();
    this.playing = "hls";
    const engine = hlsEngine(this.video);
    if (engine === null) {
      this.webrtcOnly(t("This browser can play the stream over WebRTC only."));
      return;
    }
    if (engine === "native") {
      this.video.src = this.playlist;
      this.video.play().catch(() => {});
      return;
    }
    let Hls;
    try {
      Hls = (await import(HLS_JS)).default;
    } catch {
      this.playing = null;
      this.show("paused", t("Cannot load the HLS player. Trying again…"));
      this.retry(RETRY_MS);
      return;
    }
    if (this.playing !== "hls" || this.hls) return;
    const hls = new Hls({ enableWorker: false, lowLatencyMode: true, backBufferLength: 30 });
    this.hls = hls;
    hls.on(Hls.Events.MANIFEST_PARSED, () => this.video.play().catch(() => {}));
    hls.on(Hls.Events.ERROR, (_, data) => {
      if (this.hls !== hls || !data.fatal) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        hls.recoverMediaError();
        return;
      }
      if (data.details === Hls.ErrorDetails.MANIFEST_LOAD_ERROR && data.response?.code === 409) {
        // hls.unsupported_codec: this stream cannot be packaged for HLS; asking again won't help.
        this.webrtcOnly(t("This stream is not available over HLS. Watching over WebRTC…"));
        return;
      }
      this.stop();
      this.show("paused", t("The stream paused. Reconnecting…"));
      this.retry(RETRY_MS);
    });
    hls.loadSource(this.playlist);
    hls.attachMedia(this.video);
  }

  /** HLS cannot serve this page (the browser, or the stream's codec): WebRTC from now on. */
  webrtcOnly(message) {
    this.stop();
    this.show("paused", message);
    this.failures = 0;
    this.asked = "webrtc";
    this.retry(0);
  }

  stop() {
    this.webrtc?.stop();
    this.webrtc = null;
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    }
    if (this.playing === "webrtc") this.video.srcObject = null;
    if (this.playing === "hls") {
      this.video.removeAttribute("src");
      this.video.load();
    }
    this.playing = null;
  }
}

const root = document.querySelector("[data-player]");
if (root) new Player(root).start();
