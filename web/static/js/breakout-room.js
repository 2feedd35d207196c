// A break-out room: the members' video call, the room's chat, the round's clock and the
// moderators' messages.
//
// Each member publishes their camera and microphone once and watches every other member with
// one RTCPeerConnection each, following the room's `call.members` (room:<code>:<room>). The
// session's break-outs topic says who is where and when the round ends: when the rooms close,
// or this person is moved, the page goes where they now belong (another room, or back to the
// session page and its stream).
// Every text from a participant goes into the page with textContent, never as HTML.
import { ApiError, post } from "../lib/api.js";
import {
  CONNECTION,
  ServerClock,
  broadcastBanner,
  formatCountdown,
  loadBreakouts,
  roomById,
  roomOf,
  spokenDuration,
} from "../lib/breakouts/common.js";
import { clock, el } from "../lib/dom.js";
import { pageRealtime } from "../lib/realtime.js";
import { ReconnectingPeer } from "../lib/reconnecting-peer.js";

const CAMERA = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } };
const MICROPHONE = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
const RETRY_MS = [500, 1000, 2000, 4000, 8000, 15000];
const OFFLINE_RETRY_MS = 1000; // a member listed in the call whose publication is not up yet
const DISCONNECTED_GRACE_MS = 4000; // a "disconnected" peer often recovers by itself
const FIRST_PICTURE_MS = 4000; // connected but no picture yet: watch again, which asks for a keyframe
const RECHECK_MS = 2000;
const TICK_MS = 250;
const DISMISSED = "plenaria.breakouts.dismissed";
const DEVICES = "plenaria.breakouts.devices";
const DROPPED = "Your connection to the room dropped. Reconnecting…";

function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean).map((word) => [...word]);
  if (!words.length) return "?";
  const letters = words.length > 1 ? [words[0][0], words[words.length - 1][0]] : words[0].slice(0, 2);
  return letters.join("").toUpperCase();
}

function mediaProblem(error) {
  switch (error?.name) {
    case "NotAllowedError":
      return "Your browser blocks the camera and microphone for this site. Allow them (the icon in the address bar) and reload the page.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No camera or microphone was found.";
    case "NotReadableError":
      return "Your camera or microphone is busy in another application.";
    default:
      return `Your camera and microphone could not start${error?.message ? ` (${error.message})` : ""}.`;
  }
}

/** The server refused this person the room (moved, or the rooms closed): look again where
 *  they belong instead of offering again. */
function notHere(error) {
  return error?.status === 403 || error?.status === 404 || error?.code === "breakouts.wrong_phase";
}

/** One person's square in the grid: their video, or their initials when there is none. */
class Tile {
  constructor(id, local) {
    this.id = id;
    this.local = local;
    this.video = el("video", { playsinline: true, autoplay: true });
    this.video.muted = local; // never play your own microphone back to you
    this.avatar = el("span", { class: "tile-avatar", "aria-hidden": "true" });
    this.label = el("span", { class: "tile-name" });
    this.badges = el("span", { class: "tile-badges" });
    this.status = el("span", { class: "tile-status" });
    this.element = el(
      "li",
      { class: `tile${local ? " is-local" : ""}`, "data-tile": id, "data-connection": "offline" },
      this.video,
      this.avatar,
      el("p", { class: "tile-caption" }, this.label, this.badges),
      this.status,
    );
    this.video.addEventListener("loadeddata", () => this.element.classList.add("has-video"));
    this.video.addEventListener("emptied", () => this.element.classList.remove("has-video"));
    this.name = null;
    this.shown = "";
  }

  describe(name, visitor) {
    if (name === this.name) return;
    this.name = name;
    this.label.textContent = `${name}${this.local ? " (you)" : ""}${visitor ? " · moderator" : ""}`;
    this.avatar.textContent = initials(name);
    this.video.setAttribute("aria-label", this.local ? "Your camera" : `Video of ${name}`);
  }

  show({ muted, cameraOff, speaking, connection }) {
    const key = `${muted}|${cameraOff}|${speaking}|${connection}`;
    if (key === this.shown) return;
    this.shown = key;
    this.element.classList.toggle("is-speaking", speaking);
    this.element.classList.toggle("is-camera-off", cameraOff);
    this.element.dataset.connection = connection;
    const badges = [];
    if (muted) badges.push(el("span", { class: "tile-badge badge-muted", text: "Muted" }));
    if (cameraOff) badges.push(el("span", { class: "tile-badge", text: "Camera off" }));
    if (speaking) badges.push(el("span", { class: "visually-hidden", text: "Speaking" }));
    this.badges.replaceChildren(...badges);
    this.status.textContent = {
      connecting: "Connecting…",
      reconnecting: "Reconnecting…",
      offline: this.local ? "Not sending: no camera or microphone" : "Not on the call yet",
      elsewhere: "On the call in another tab",
      live: "",
    }[connection];
  }

  attach(stream, onBlocked) {
    if (this.video.srcObject !== stream) this.video.srcObject = stream;
    this.play(onBlocked);
  }

  play(onBlocked) {
    this.video.play()?.catch((error) => {
      // Browsers may refuse to start sound before the person has clicked on this page:
      // play without sound, and offer a button that turns it on.
      if (error.name !== "NotAllowedError" || this.video.muted) return;
      this.video.muted = true;
      this.video.play()?.catch(() => {});
      onBlocked?.();
    });
  }

  detach() {
    this.video.srcObject = null;
    this.element.classList.remove("has-video");
  }
}

class BreakoutRoom {
  constructor(root) {
    this.root = root;
    this.code = root.dataset.sessionCode;
    this.roomId = root.dataset.roomId;
    this.me = root.dataset.me;
    this.myName = root.dataset.meName;
    this.base = `/api/sessions/${this.code}/breakouts`;
    this.roomBase = `${this.base}/rooms/${this.roomId}`;
    this.find = (name) => root.querySelector(`[data-breakout-${name}]`);
    this.serverClock = new ServerClock();
    this.state = null; // the session's break-outs snapshot
    this.initial = {
      phase: root.dataset.phase,
      ends_at: root.dataset.endsAt || null,
      closes_at: root.dataset.closesAt || null,
      warning: null,
    }; // as the page was rendered, for the clock until the first snapshot
    this.roomView = null; // the room topic's snapshot: members before the first break-outs snapshot
    this.call = { members: {}, speaker: null };
    this.tiles = new Map();
    this.watchers = new Map();
    this.local = null;
    /** @type {ReconnectingPeer | null} */
    this.publisher = null;
    this.publishing = "connecting";
    this.muted = false;
    this.cameraOff = false;
    this.mediaStarting = true; // asking for the camera and microphone
    this.soundBlocked = false;
    this.messages = new Set([...root.querySelectorAll("[data-message-id]")].map((item) => item.dataset.messageId));
    this.leaving = false;
    this.wasVisiting = root.dataset.visiting === "true";
    this.sending = false;
    this.warningShown = null;
    this.lastRecheck = 0;
    this.lastBroadcast = null;
    this.realtime = null;
    // Another tab of this browser in the room as the same person takes the call over: the
    // server keeps one publication per person, so two tabs would keep replacing each other.
    this.tabId = `${Date.now()}-${Math.random()}`;
    this.tabs = "BroadcastChannel" in window ? new BroadcastChannel(`plenaria-breakouts-${this.me}`) : null;
    this.dormant = false;
  }

  start() {
    this.bindControls();
    this.bindChat();
    window.addEventListener("pagehide", () => this.hangUp());
    this.tabs?.addEventListener("message", (event) => {
      if (event.data?.type === "publishing" && event.data.tab !== this.tabId) this.yieldToOtherTab();
    });
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) window.location.reload(); // back from the cache: start afresh
    });
    this.tileFor(this.me).describe(this.myName, this.root.dataset.visiting === "true");
    this.renderTiles();
    this.scrollChat(true);

    const realtime = pageRealtime();
    this.realtime = realtime;
    realtime.onStatus((status) => {
      const label = this.find("connection");
      label.dataset.state = status;
      label.textContent = CONNECTION[status];
    });
    realtime.subscribe(`session:${this.code}:breakouts`, {
      snapshot: (state) => this.applyBreakouts(state),
      event: (changes) => {
        for (const change of changes) {
          if (change.type === "breakouts") this.applyBreakouts(change.breakouts);
          else if (change.type === "broadcast") this.showBroadcast(change.text, change.at);
        }
      },
      error: (error) => this.fail(error.message),
    });
    realtime.subscribe(`room:${this.code}:${this.roomId}`, {
      snapshot: (room) => this.applyRoom(room),
      event: (changes) => {
        for (const change of changes) {
          if (change.type === "chat") this.addMessage(change.message);
          else if (change.type === "call") this.applyCall(change.call);
        }
      },
      error: () => this.recheck(), // refused: moved elsewhere, or the rooms closed
    });
    loadBreakouts(this.code, this.serverClock).catch(() => {}); // sets the clock; state comes by socket
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.tick();
    this.startMedia();
  }

  // -- where this person belongs ----------------------------------------------------------

  applyBreakouts(state) {
    const previous = this.state;
    this.state = state;
    if (this.leaving) return;
    if (state.phase === "closed" || state.phase === "planning") {
      this.goTo(this.home(), "The break-out rooms have closed. Back to the main session…");
      return;
    }
    const room = roomOf(state, this.me);
    if (room === null) {
      this.goTo(this.home(), "You are no longer in a break-out room. Back to the main session…");
      return;
    }
    if (room !== this.roomId) {
      const name = roomById(state, room)?.name ?? "another room";
      this.goTo(`/sessions/${this.code}/breakouts/${room}`, `You were moved to ${name}. Taking you there…`);
      return;
    }
    this.root.dataset.phase = state.phase;
    this.wasVisiting = this.visiting();
    if (previous === null) this.firstBroadcast();
    this.renderRound(previous);
    this.renderHelp();
    this.renderPeople();
    this.renderTiles();
    this.tick();
  }

  recheck() {
    if (this.leaving || Date.now() - this.lastRecheck < RECHECK_MS) return;
    this.lastRecheck = Date.now();
    loadBreakouts(this.code, this.serverClock)
      .then((state) => this.applyBreakouts(state))
      .catch(() => {});
  }

  /** Where to go when the room is over: a visiting moderator back to the console. */
  home() {
    return this.wasVisiting ? `/sessions/${this.code}/moderate#breakouts` : `/sessions/${this.code}`;
  }

  visiting() {
    return Boolean(roomById(this.state, this.roomId)?.visitors.some((v) => v.id === this.me))
      || (this.state === null && this.root.dataset.visiting === "true");
  }

  goTo(url, message) {
    if (this.leaving) return;
    this.leaving = true;
    this.banner("leaving", message);
    // The server ends the calls of whoever is no longer in a room (rooms closed, moved, left)
    // by itself: leave without DELETEs that would race it.
    this.hangUp(false);
    this.realtime?.stop();
    clearInterval(this.ticker);
    window.location.assign(url);
  }

  // -- the round's clock and banners ------------------------------------------------------

  renderRound(previous) {
    const state = this.state;
    const closing = state.phase === "closing";
    if (closing && previous?.phase !== "closing") {
      const left = this.serverClock.until(state.closes_at) ?? 0;
      this.dropBanner("warning");
      this.dropBanner("extended");
      this.banner(
        "closing",
        `The rooms are closing. You go back to the main session in ${spokenDuration(left)}.`,
      );
    } else if (!closing) {
      this.dropBanner("closing");
      const extended = previous && ["open", "closing"].includes(previous.phase)
        && Date.parse(state.ends_at) > Date.parse(previous.ends_at ?? 0) + 1000;
      if (extended) {
        const left = this.serverClock.until(state.ends_at) ?? 0;
        this.banner("extended", `The moderators gave the rooms more time: ${spokenDuration(left)} left.`);
      }
    }
    if (state.warning && state.warning !== this.warningShown && !closing) {
      this.dropBanner("extended");
      const left = this.serverClock.until(state.ends_at) ?? state.warning * 60000;
      this.banner("warning", `${spokenDuration(left)} left in this room.`);
    } else if (!state.warning) {
      this.dropBanner("warning");
    }
    this.warningShown = state.warning;
    this.find("clock-label").textContent = closing ? "Back to the main session in" : "Time left";
  }

  tick() {
    const state = this.state ?? this.initial;
    if (this.leaving) return;
    const closing = state.phase === "closing";
    const left = this.serverClock.until(closing ? state.closes_at : state.ends_at) ?? 0;
    const countdown = this.find("countdown");
    const text = formatCountdown(left);
    if (countdown.textContent !== text) countdown.textContent = text;
    this.find("clock").dataset.state = closing ? "closing" : state.warning || left <= 60000 ? "warning" : "open";
    if (closing && left <= 0) {
      this.goTo(this.home(), "The break-out rooms have closed. Back to the main session…");
    }
  }

  banner(kind, content) {
    const node = typeof content === "string"
      ? el("div", { class: `bo-banner bo-banner-${kind}` }, el("p", { text: content }))
      : content;
    node.dataset.banner = kind;
    const region = this.find("banners");
    const old = region.querySelector(`[data-banner="${kind}"]`);
    if (old) old.replaceWith(node);
    else region.append(node);
  }

  dropBanner(kind) {
    this.find("banners").querySelector(`[data-banner="${kind}"]`)?.remove();
  }

  firstBroadcast() {
    const last = this.state.broadcasts.at(-1);
    if (!last) return;
    let dismissed = null;
    try {
      dismissed = window.sessionStorage.getItem(DISMISSED);
    } catch {
      // storage may be off; show it again then
    }
    if (dismissed !== last.at) this.showBroadcast(last.text, last.at);
    else this.lastBroadcast = last.at;
  }

  showBroadcast(text, at) {
    if (this.lastBroadcast === at) return;
    this.lastBroadcast = at;
    this.banner(
      "broadcast",
      broadcastBanner(text, at, () => {
        try {
          window.sessionStorage.setItem(DISMISSED, at);
        } catch {
          // nothing to remember it in
        }
      }),
    );
  }

  // -- people and tiles -------------------------------------------------------------------

  people() {
    const room = roomById(this.state, this.roomId) ?? this.roomView;
    if (!room) return [];
    return [
      ...room.members.map((person) => ({ ...person, visitor: false })),
      ...room.visitors.map((person) => ({ ...person, visitor: true })),
    ];
  }

  renderPeople() {
    const people = this.people();
    const list = this.find("people");
    list.replaceChildren(
      ...people.map((person) => {
        const call = this.call.members[person.id];
        const notes = [];
        if (person.id === this.me) notes.push("you");
        if (person.visitor) notes.push("moderator");
        if (person.id !== this.me && !call) notes.push("not on the call");
        else if (call?.muted) notes.push("muted");
        return el(
          "li",
          { "data-person": person.id, class: this.call.speaker === person.id ? "is-speaking" : null },
          el("span", { text: person.name }),
          notes.length ? el("span", { class: "muted", text: ` (${notes.join(", ")})` }) : null,
        );
      }),
    );
    this.find("people-count").textContent = String(people.length);
  }

  tileFor(id) {
    let tile = this.tiles.get(id);
    if (!tile) {
      tile = new Tile(id, id === this.me);
      this.tiles.set(id, tile);
    }
    return tile;
  }

  renderTiles() {
    const people = this.people();
    const wanted = new Map([[this.me, null]]);
    for (const person of people) wanted.set(person.id, person);
    for (const id of Object.keys(this.call.members)) if (!wanted.has(id)) wanted.set(id, null);
    for (const [id, tile] of this.tiles) {
      if (wanted.has(id)) continue;
      tile.detach();
      tile.element.remove();
      this.tiles.delete(id);
    }
    const grid = this.find("grid");
    const order = [...wanted.keys()];
    order.forEach((id, index) => {
      const tile = this.tileFor(id);
      const person = wanted.get(id);
      if (person) tile.describe(person.name, person.visitor);
      else if (tile.name === null) tile.describe(id === this.me ? this.myName : "Someone", false);
      if (grid.children[index] !== tile.element) grid.insertBefore(tile.element, grid.children[index] ?? null);
      this.showTile(id);
    });
    grid.dataset.count = String(Math.min(order.length, 10));
    this.find("alone").hidden = order.length > 1 || (!this.state && !this.roomView);
  }

  showTile(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    const speaking = this.call.speaker === id && Object.keys(this.call.members).length > 1;
    if (id === this.me) {
      const local = this.local;
      tile.show({
        muted: local ? this.muted || !local.getAudioTracks().length : !this.mediaStarting,
        cameraOff: local ? this.cameraOff || !local.getVideoTracks().length : !this.mediaStarting,
        speaking: speaking && !this.muted,
        connection: this.dormant ? "elsewhere" : local ? this.publishing : this.mediaStarting ? "connecting" : "offline",
      });
      return;
    }
    const call = this.call.members[id];
    const watcher = this.watchers.get(id);
    tile.show({
      muted: Boolean(call?.muted) || (call ? !call.kinds.includes("audio") : false),
      cameraOff: Boolean(call?.camera_off) || (call ? !call.kinds.includes("video") : false),
      speaking,
      connection: call ? watcher?.connection ?? "connecting" : "offline",
    });
  }

  // -- the room topic: chat and call ------------------------------------------------------

  applyRoom(room) {
    this.roomView = room;
    for (const message of room.chat) this.addMessage(message);
    this.applyCall(room.call);
  }

  applyCall(call) {
    this.call = call;
    if (this.leaving || this.dormant) {
      this.renderTiles();
      return;
    }
    const publishing = new Set(Object.keys(call.members).filter((id) => id !== this.me));
    // A member gone from the call took their viewers with them: nothing to DELETE.
    for (const id of [...this.watchers.keys()]) if (!publishing.has(id)) this.stopWatching(id, false);
    for (const id of publishing) if (!this.watchers.has(id)) this.watch(id);
    this.renderTiles();
    this.renderPeople();
  }

  // -- my camera and microphone -----------------------------------------------------------

  async startMedia() {
    this.mediaStarting = true;
    this.showTile(this.me);
    const status = this.find("media-status");
    status.textContent = "Starting your camera and microphone…";
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
      status.textContent = `${mediaProblem(problem)} You can still see, hear and chat with the others.`;
      this.showTile(this.me);
      return;
    }
    this.local = stream;
    const hasAudio = stream.getAudioTracks().length > 0;
    const hasVideo = stream.getVideoTracks().length > 0;
    this.find("mute").disabled = !hasAudio;
    this.find("camera").disabled = !hasVideo;
    const { muted, cameraOff } = this.remembered();
    this.muted = muted && hasAudio;
    this.cameraOff = cameraOff && hasVideo;
    this.applyDevices();
    status.textContent = hasAudio && hasVideo
      ? ""
      : hasAudio
        ? "No camera: the others hear you and see your initials."
        : "No microphone: the others see you but cannot hear you.";
    this.tileFor(this.me).attach(stream);
    this.showTile(this.me);
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
          this.recheck();
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
        const status = this.find("media-status");
        if (state === "connected") {
          this.setPublishing("live");
          if (status.textContent === DROPPED) status.textContent = "";
          return;
        }
        this.setPublishing(state);
        if (problem?.after === "failed") status.textContent = DROPPED;
      },
    });
    this.publisher = publisher;
    publisher.start();
  }

  setPublishing(state) {
    this.publishing = state;
    this.showTile(this.me);
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
  }

  toggleCamera() {
    if (!this.local) return;
    this.cameraOff = !this.cameraOff;
    this.applyDevices();
    this.sendCallState();
  }

  /** Make the tracks, buttons and own tile follow ``muted`` and ``cameraOff``, and remember
   *  them for the next room this tab goes to (as calls keep you muted when you move). */
  applyDevices() {
    for (const track of this.local?.getAudioTracks() ?? []) track.enabled = !this.muted;
    for (const track of this.local?.getVideoTracks() ?? []) track.enabled = !this.cameraOff;
    const mute = this.find("mute");
    mute.textContent = this.muted ? "Unmute" : "Mute";
    mute.dataset.state = this.muted ? "off" : "on";
    const camera = this.find("camera");
    camera.textContent = this.cameraOff ? "Start video" : "Stop video";
    camera.dataset.state = this.cameraOff ? "off" : "on";
    try {
      window.sessionStorage.setItem(DEVICES, JSON.stringify({ muted: this.muted, cameraOff: this.cameraOff }));
    } catch {
      // no storage: the next room starts with both on
    }
    this.showTile(this.me);
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
      if (error.code !== "breakouts.wrong_phase" && error.status !== 403) this.fail(error.message);
    });
  }

  // -- watching the others ----------------------------------------------------------------

  watch(id) {
    const watcher = { id, link: null, stall: null, connection: "connecting" };
    const current = () => this.watchers.get(id) === watcher && !this.leaving;
    watcher.link = new ReconnectingPeer(`${this.roomBase}/members/${encodeURIComponent(id)}/watch`, {
      setUp: (peer) => {
        peer.addTransceiver("video", { direction: "recvonly" });
        peer.addTransceiver("audio", { direction: "recvonly" });
        const stream = new MediaStream();
        peer.addEventListener("track", (event) => {
          if (watcher.link.peer !== peer) return;
          stream.addTrack(event.track);
          this.tiles.get(id)?.attach(stream, () => this.offerSound());
        });
      },
      delays: RETRY_MS,
      graceMs: DISCONNECTED_GRACE_MS,
      verdict: ({ error }) => {
        if (!current()) return "abandon";
        if (notHere(error)) {
          this.recheck();
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
        this.setWatching(watcher, state === "connected" ? "live" : state);
      },
    });
    this.watchers.set(id, watcher);
    watcher.link.start();
  }

  /** A connection that carries no picture (its keyframe got lost on the way) is opened
   *  again; a member who sends no video is left alone. */
  checkPicture(watcher, peer) {
    if (watcher.link.peer !== peer || this.watchers.get(watcher.id) !== watcher || this.leaving) return;
    const video = this.tiles.get(watcher.id)?.video;
    if (video && video.videoWidth > 0) return;
    if (!this.call.members[watcher.id]?.kinds.includes("video")) return;
    watcher.link.reoffer();
  }

  setWatching(watcher, connection) {
    watcher.connection = connection;
    this.showTile(watcher.id);
  }

  stopWatching(id, release = true) {
    const watcher = this.watchers.get(id);
    if (!watcher) return;
    this.watchers.delete(id);
    clearTimeout(watcher.stall);
    watcher.link.stop(release);
    this.tiles.get(id)?.detach();
  }

  yieldToOtherTab() {
    if (this.dormant || this.leaving) return;
    this.dormant = true;
    for (const id of [...this.watchers.keys()]) this.stopWatching(id);
    this.closePublisher(false); // the other tab's publication replaced this one on the server
    this.local?.getTracks().forEach((track) => track.stop());
    this.local = null;
    this.tileFor(this.me).detach();
    this.find("mute").disabled = true;
    this.find("camera").disabled = true;
    this.find("takeover").hidden = false;
    this.find("media-status").textContent = "You are in this room in another tab too: the call goes on there.";
    this.renderTiles();
  }

  takeOver() {
    this.dormant = false;
    this.find("takeover").hidden = true;
    this.applyCall(this.call);
    this.startMedia();
  }

  offerSound() {
    if (this.soundBlocked) return;
    this.soundBlocked = true;
    this.find("sound").hidden = false;
    this.find("media-status").textContent = "Your browser started the call without sound. Turn it on with the button below.";
  }

  turnOnSound() {
    this.soundBlocked = false;
    for (const [id, tile] of this.tiles) {
      if (id === this.me) continue;
      tile.video.muted = false;
      tile.play();
    }
    this.find("sound").hidden = true;
    this.find("media-status").textContent = "";
  }

  /** End the call: ``release`` the server's side too, unless the server ends it itself. */
  hangUp(release = true) {
    for (const id of [...this.watchers.keys()]) this.stopWatching(id, release);
    this.closePublisher(release);
    this.local?.getTracks().forEach((track) => track.stop());
  }

  // -- controls ---------------------------------------------------------------------------

  bindControls() {
    this.find("mute").addEventListener("click", () => this.toggleMute());
    this.find("camera").addEventListener("click", () => this.toggleCamera());
    this.find("sound").addEventListener("click", () => this.turnOnSound());
    this.find("takeover").addEventListener("click", () => this.takeOver());
    this.find("help")?.addEventListener("click", () => this.askHelp());
    const dialog = this.find("leave-dialog");
    this.find("leave").addEventListener("click", () => dialog.showModal());
    dialog.addEventListener("close", () => {
      if (dialog.returnValue === "leave") this.leaveRoom();
      dialog.returnValue = "";
    });
  }

  renderHelp() {
    const button = this.find("help");
    if (!button) return;
    button.hidden = this.visiting();
    const pending = Boolean(roomById(this.state, this.roomId)?.help);
    const was = button.dataset.pending === "true";
    button.dataset.pending = String(pending);
    button.disabled = pending || this.state?.phase !== "open";
    button.textContent = pending ? "Help is on the way" : "Ask for help";
    if (was && !pending) this.dropBanner("help");
  }

  async askHelp() {
    const button = this.find("help");
    button.disabled = true;
    try {
      await post(`${this.base}/help`);
      this.banner("help", "The moderators know your room would like help. One of them will join you shortly.");
    } catch (error) {
      if (error.code === "breakouts.help_pending") {
        this.banner("help", "Someone in your room has already asked: a moderator is on the way.");
      } else {
        this.fail(error instanceof ApiError ? error.message : "Asking for help did not work. Try again.");
      }
    } finally {
      this.renderHelp();
    }
  }

  async leaveRoom() {
    const visiting = this.visiting();
    try {
      if (visiting) await post(`${this.base}/visit`, { room_id: "" });
      else await post(`${this.base}/leave`);
    } catch (error) {
      if (error.code !== "breakouts.not_in_pool") {
        this.fail(error.message);
        return;
      }
    }
    this.goTo(
      visiting ? `/sessions/${this.code}/moderate#breakouts` : `/sessions/${this.code}`,
      "You left the room.",
    );
  }

  // -- chat -------------------------------------------------------------------------------

  bindChat() {
    const form = this.find("chat-form");
    const text = this.find("chat-text");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendChat();
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.sendChat();
      }
    });
  }

  async sendChat() {
    const field = this.find("chat-text");
    const text = field.value.trim();
    if (!text || this.sending) return;
    this.sending = true;
    const button = this.find("chat-form").querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await post(`${this.roomBase}/chat`, { text });
      field.value = "";
      this.find("error").textContent = "";
    } catch (error) {
      this.fail(error instanceof ApiError ? error.message : "The message was not sent. Try again.");
    } finally {
      this.sending = false;
      button.disabled = false;
      field.focus();
    }
  }

  addMessage(message) {
    if (this.messages.has(message.id)) return;
    this.messages.add(message.id);
    const log = this.find("chat-log");
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
    const mine = message.author_id === this.me;
    this.find("chat").append(
      el(
        "li",
        { class: `chat-message${mine ? " is-mine" : ""}`, "data-message-id": message.id },
        el(
          "p",
          { class: "chat-meta" },
          el("span", { class: "chat-author", text: message.author }),
          " ",
          el("time", { datetime: message.at, text: clock.format(new Date(message.at)) }),
        ),
        el("p", { class: "chat-text", text: message.text }),
      ),
    );
    this.find("chat-empty").hidden = true;
    this.scrollChat(atBottom || mine);
  }

  scrollChat(toEnd) {
    const log = this.find("chat-log");
    if (toEnd) log.scrollTop = log.scrollHeight;
  }

  fail(message) {
    this.find("error").textContent = message;
  }
}

const root = document.querySelector("[data-breakout-room]");
if (root) new BreakoutRoom(root).start();
