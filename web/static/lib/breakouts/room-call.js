// The break-out room's video call, apart from what shows it: this person's camera and
// microphone (getUserMedia), one ReconnectingPeer publishing them and one per other member
// on the call watching theirs (following the room's ``call.members``), mute and camera with
// the call-state POSTs, the one tab of this browser that holds the call, and hanging up.
// The views observe it (room-view.js): a tile shows ``streamOf(id)`` in its <video> and
// registers that element here, for the first-picture check and for turning sound on.
import { post } from "../api.js";
import { ReconnectingPeer } from "../reconnecting-peer.js";
import { Observable } from "./room-observable.js";
import { t } from "../i18n.js";
import { localTile, mediaProblem, notHere, remoteTile, speakerOf, watchPlan } from "./room-logic.js";

const CAMERA = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } };
const MICROPHONE = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
const RETRY_MS = [500, 1000, 2000, 4000, 8000, 15000];
const OFFLINE_RETRY_MS = 1000; // a member listed in the call whose publication is not up yet
const DISCONNECTED_GRACE_MS = 4000; // a "disconnected" peer often recovers by itself
const FIRST_PICTURE_MS = 4000; // connected but no picture yet: watch again, which asks for a keyframe
const DEVICES = "plenaria.breakouts.devices";
const dropped = () => t("Your connection to the room dropped. Reconnecting…");

/** Play ``video``. Browsers may refuse to start sound before the person has clicked on this
 *  page: then play without sound, and tell ``onBlocked`` (which offers a button for it). */
export function playVideo(video, onBlocked) {
  video.play()?.catch((error) => {
    if (error.name !== "NotAllowedError" || video.muted) return;
    video.muted = true;
    video.play()?.catch(() => {});
    onBlocked?.();
  });
}

/**
 * @typedef {object} Watcher one other member's camera and microphone, watched
 * @property {string} id
 * @property {ReconnectingPeer} link
 * @property {any} stall the timer of the first-picture check
 * @property {string} connection
 * @property {MediaStream | null} stream what the current connection receives
 * @property {number} tracks how many tracks arrived on it (a tile plays again on each)
 */

export class RoomCall extends Observable {
  /** @type {{members: Record<string, any>, speaker: string | null}} the room's call */
  call = { members: {}, speaker: null };
  /** @type {Map<string, Watcher>} */
  watchers = new Map();
  /** @type {MediaStream | null} */
  local = null;
  /** @type {ReconnectingPeer | null} */
  publisher = null;
  publishing = "connecting";
  muted = false;
  cameraOff = false;
  mediaStarting = true; // asking for the camera and microphone
  canMute = false;
  canStopCamera = false;
  soundBlocked = false;
  /** The line under the controls (role=status). */
  status = "";
  leaving = false;
  /** Another tab of this browser holds the call. */
  dormant = false;
  /** @type {Map<string, HTMLVideoElement>} the tiles' videos */
  videos = new Map();

  /**
   * @param {{code: string, roomId: string, me: string}} room the session, the room and who
   *   this person is
   * @param {{fail?: (message: string) => void, refused?: () => void}} [hooks] what to do
   *   with a failed call-state POST, and when the server refuses this person the room
   */
  constructor({ code, roomId, me }, hooks = {}) {
    super();
    this.roomBase = `/api/sessions/${code}/breakouts/rooms/${roomId}`;
    this.me = me;
    this.hooks = hooks;
    // Another tab of this browser in the room as the same person takes the call over: the
    // server keeps one publication per person, so two tabs would keep replacing each other.
    this.tabId = `${Date.now()}-${Math.random()}`;
    this.tabs = "BroadcastChannel" in window ? new BroadcastChannel(`plenaria-breakouts-${me}`) : null;
  }

  start() {
    window.addEventListener("pagehide", () => this.hangUp());
    this.tabs?.addEventListener("message", (event) => {
      if (event.data?.type === "publishing" && event.data.tab !== this.tabId) this.yieldToOtherTab();
    });
    this.startMedia();
  }

  // -- what the tiles show ----------------------------------------------------------------

  /** The stream a tile shows: this person's own, or what watching a member receives. */
  streamOf(id) {
    if (id === this.me) return { stream: this.local, tracks: 0 };
    const watcher = this.watchers.get(id);
    return { stream: watcher?.stream ?? null, tracks: watcher?.tracks ?? 0 };
  }

  /** Muted, camera off, speaking and connection of the tile of ``id``. */
  tileOf(id) {
    const speaking = speakerOf(this.call) === id;
    if (id === this.me) {
      const local = this.local;
      return localTile({
        local: local && { audio: local.getAudioTracks().length > 0, video: local.getVideoTracks().length > 0 },
        muted: this.muted,
        cameraOff: this.cameraOff,
        mediaStarting: this.mediaStarting,
        publishing: this.publishing,
        dormant: this.dormant,
        speaking,
      });
    }
    return remoteTile(this.call.members[id], this.watchers.get(id)?.connection, speaking);
  }

  /** A tile's <video> is in the page (until the returned function is called). */
  registerVideo(id, video) {
    this.videos.set(id, video);
    return () => {
      if (this.videos.get(id) === video) this.videos.delete(id);
    };
  }

  // -- the room's call --------------------------------------------------------------------

  applyCall(call) {
    this.call = call;
    if (!this.leaving && !this.dormant) {
      const { stop, start } = watchPlan(call.members, this.me, this.watchers.keys());
      // A member gone from the call took their viewers with them: nothing to DELETE.
      for (const id of stop) this.stopWatching(id, false);
      for (const id of start) this.watch(id);
    }
    this.changed();
  }

  // -- my camera and microphone -----------------------------------------------------------

  async startMedia() {
    this.mediaStarting = true;
    this.status = t("Starting your camera and microphone…");
    this.changed();
    let stream = null;
    let problem = null;
    for (const constraints of [{ video: CAMERA, audio: MICROPHONE }, { audio: MICROPHONE }, { video: CAMERA }]) {
      try {
        stream = await navigator.mediaDevices.getUserMedia(constraints);
        break;
      } catch (error) {
        problem ??= error;
        if (error.name === "NotAllowedError" || error.name === "SecurityError") break;
      }
    }
    this.mediaStarting = false;
    if (this.leaving || this.dormant) {
      stream?.getTracks().forEach((track) => track.stop());
      return;
    }
    if (!stream) {
      this.status = t("{problem} You can still see, hear and chat with the others.", { problem: mediaProblem(problem) });
      this.changed();
      return;
    }
    this.local = stream;
    const hasAudio = stream.getAudioTracks().length > 0;
    const hasVideo = stream.getVideoTracks().length > 0;
    this.canMute = hasAudio;
    this.canStopCamera = hasVideo;
    const { muted, cameraOff } = this.remembered();
    this.muted = muted && hasAudio;
    this.cameraOff = cameraOff && hasVideo;
    this.applyDevices();
    this.status = hasAudio && hasVideo
      ? ""
      : hasAudio
        ? t("No camera: the others hear you and see your initials.")
        : t("No microphone: the others see you but cannot hear you.");
    this.changed();
    this.publish();
  }

  publish() {
    if (!this.local || this.leaving) return;
    this.publisher?.stop(false); // publishing again replaces the earlier publication on the server
    const publisher = new ReconnectingPeer(`${this.roomBase}/publish`, {
      setUp: (peer) => {
        for (const track of this.local?.getTracks() ?? []) {
          peer.addTransceiver(track, { direction: "sendonly", streams: [this.local] });
        }
      },
      dropped: "forget", // the next publication replaces it
      delays: RETRY_MS,
      graceMs: DISCONNECTED_GRACE_MS,
      verdict: ({ error }) => {
        if (this.leaving) return "abandon";
        if (notHere(error)) {
          this.hooks.refused?.();
          return "abandon";
        }
        return "retry";
      },
      answered: () => {
        this.tabs?.postMessage({ type: "publishing", tab: this.tabId });
        if (this.muted || this.cameraOff) this.sendCallState();
      },
      report: (state, problem) => {
        if (this.publisher !== publisher || this.leaving || state === "failed") return;
        if (state === "connected") {
          this.publishing = "live";
          if (this.status === dropped()) this.status = "";
        } else {
          this.publishing = state;
          if (problem?.after === "failed") this.status = dropped();
        }
        this.changed();
      },
    });
    this.publisher = publisher;
    publisher.start();
  }

  closePublisher(release = true) {
    this.publisher?.stop(release);
    this.publisher = null;
  }

  toggleMute() {
    if (!this.local) return;
    this.muted = !this.muted;
    this.applyDevices();
    this.sendCallState();
    this.changed();
  }

  toggleCamera() {
    if (!this.local) return;
    this.cameraOff = !this.cameraOff;
    this.applyDevices();
    this.sendCallState();
    this.changed();
  }

  /** Make the tracks follow ``muted`` and ``cameraOff``, and remember them for the next room
   *  this tab goes to (as calls keep you muted when you move). */
  applyDevices() {
    for (const track of this.local?.getAudioTracks() ?? []) track.enabled = !this.muted;
    for (const track of this.local?.getVideoTracks() ?? []) track.enabled = !this.cameraOff;
    try {
      window.sessionStorage.setItem(DEVICES, JSON.stringify({ muted: this.muted, cameraOff: this.cameraOff }));
    } catch {
      // no storage: the next room starts with both on
    }
  }

  remembered() {
    try {
      const saved = JSON.parse(window.sessionStorage.getItem(DEVICES) ?? "null");
      return { muted: saved?.muted === true, cameraOff: saved?.cameraOff === true };
    } catch {
      return { muted: false, cameraOff: false };
    }
  }

  sendCallState() {
    if (!this.publisher?.resource) return; // sent once the publication is up
    post(`${this.roomBase}/call-state`, { muted: this.muted, camera_off: this.cameraOff }).catch((error) => {
      if (error.code !== "breakouts.wrong_phase" && error.status !== 403) this.hooks.fail?.(error.message);
    });
  }

  // -- watching the others ----------------------------------------------------------------

  watch(id) {
    /** @type {Watcher} */
    const watcher = { id, link: null, stall: null, connection: "connecting", stream: null, tracks: 0 };
    const current = () => this.watchers.get(id) === watcher && !this.leaving;
    watcher.link = new ReconnectingPeer(`${this.roomBase}/members/${encodeURIComponent(id)}/watch`, {
      setUp: (peer) => {
        peer.addTransceiver("video", { direction: "recvonly" });
        peer.addTransceiver("audio", { direction: "recvonly" });
        const stream = new MediaStream();
        peer.addEventListener("track", (event) => {
          if (watcher.link.peer !== peer) return;
          stream.addTrack(event.track);
          if (this.watchers.get(id) !== watcher) return;
          watcher.stream = stream;
          watcher.tracks += 1;
          this.changed();
        });
      },
      delays: RETRY_MS,
      graceMs: DISCONNECTED_GRACE_MS,
      verdict: ({ error }) => {
        if (!current()) return "abandon";
        if (notHere(error)) {
          this.hooks.refused?.();
          return "abandon";
        }
        // a member listed in the call whose publication is not up yet
        return error?.code === "media.offline" ? OFFLINE_RETRY_MS : "retry";
      },
      report: (state) => {
        if (!current() || state === "failed") return;
        clearTimeout(watcher.stall);
        if (state === "connected") {
          const peer = watcher.link.peer;
          watcher.stall = setTimeout(() => this.checkPicture(watcher, peer), FIRST_PICTURE_MS);
        }
        watcher.connection = state === "connected" ? "live" : state;
        this.changed();
      },
    });
    this.watchers.set(id, watcher);
    watcher.link.start();
  }

  /** A connection that carries no picture (its keyframe got lost on the way) is opened
   *  again; a member who sends no video is left alone. */
  checkPicture(watcher, peer) {
    if (watcher.link.peer !== peer || this.watchers.get(watcher.id) !== watcher || this.leaving) return;
    const video = this.videos.get(watcher.id);
    if (video && video.videoWidth > 0) return;
    if (!this.call.members[watcher.id]?.kinds.includes("video")) return;
    watcher.link.reoffer();
  }

  stopWatching(id, release = true) {
    const watcher = this.watchers.get(id);
    if (!watcher) return;
    this.watchers.delete(id);
    clearTimeout(watcher.stall);
    watcher.link.stop(release);
    this.changed(); // its tile lets go of the stream
  }

  yieldToOtherTab() {
    if (this.dormant || this.leaving) return;
    this.dormant = true;
    for (const id of [...this.watchers.keys()]) this.stopWatching(id);
    this.closePublisher(false); // the other tab's publication replaced this one on the server
    this.local?.getTracks().forEach((track) => track.stop());
    this.local = null;
    this.canMute = false;
    this.canStopCamera = false;
    this.status = t("You are in this room in another tab too: the call goes on there.");
    this.changed();
  }

  takeOver() {
    this.dormant = false;
    this.applyCall(this.call);
    this.startMedia();
  }

  offerSound() {
    if (this.soundBlocked) return;
    this.soundBlocked = true;
    this.status = t("Your browser started the call without sound. Turn it on with the button below.");
    this.changed();
  }

  turnOnSound() {
    this.soundBlocked = false;
    for (const [id, video] of this.videos) {
      if (id === this.me) continue;
      video.muted = false;
      playVideo(video);
    }
    this.status = "";
    this.changed();
  }

  /** End the call: ``release`` the server's side too, unless the server ends it itself. */
  hangUp(release = true) {
    for (const id of [...this.watchers.keys()]) this.stopWatching(id, release);
    this.closePublisher(release);
    this.local?.getTracks().forEach((track) => track.stop());
  }

  /** This person is leaving the room: the call ends and nothing starts again. */
  leave(release) {
    this.leaving = true;
    this.hangUp(release);
  }
}
