// The break-out room's state, apart from what shows it: the session's break-outs (who is
// where, the round's clock, help requests, the moderators' messages) and the room's topic
// (its chat and its call), both followed on the page's socket; the banners; sending chat,
// asking for help, leaving. When the rooms close or this person is moved, it takes the page
// where they now belong (another room, or back to the session page and its stream).
// The views observe it (room-view.js, room-chat.js); the call itself is room-call.js.
import { ApiError, post } from "../api.js";
import { pageRealtime } from "../realtime.js";
import { ServerClock, formatCountdown, loadBreakouts, roomById } from "./common.js";
import { Observable } from "./room-observable.js";
import { t } from "../i18n.js";
import {
  clockLook,
  clockTarget,
  homeOf,
  roomPeople,
  roundBanners,
  whereTo,
  withBanner,
  withMessages,
  withoutBanner,
} from "./room-logic.js";

const RECHECK_MS = 2000;
const TICK_MS = 250;
const DISMISSED = "plenaria.breakouts.dismissed";

/**
 * @typedef {object} RoomPageData what the server rendered the room page with
 * @property {string} code @property {string} roomId
 * @property {string} me @property {string} myName
 * @property {boolean} visiting a visiting moderator when the page was rendered
 * @property {string} sessionTitle @property {string} roomName @property {string} roomTopic
 * @property {string} phase @property {string | null} endsAt @property {string | null} closesAt
 * @property {{id: string, name: string, visitor: boolean}[]} people who was in the room
 * @property {{id: string, author_id: string, author: string, text: string, at: string}[]} chat
 *   the chat so far
 */

/** What the server rendered into ``root`` (the [data-breakout-room] element): its data-*
 *  attributes, and the people list and chat so far.
 *  @param {HTMLElement} root @returns {RoomPageData} */
export function readRoomPage(root) {
  const data = root.dataset;
  const items = (selector) => /** @type {HTMLElement[]} */ ([...root.querySelectorAll(selector)]);
  return {
    code: data.sessionCode,
    roomId: data.roomId,
    me: data.me,
    myName: data.meName,
    visiting: data.visiting === "true",
    sessionTitle: data.sessionTitle ?? "",
    roomName: data.roomName ?? "",
    roomTopic: data.roomTopic ?? "",
    phase: data.phase,
    endsAt: data.endsAt || null,
    closesAt: data.closesAt || null,
    people: items("[data-breakout-people] [data-person]").map((item) => ({
      id: item.dataset.person,
      name: item.dataset.name ?? "",
      visitor: item.dataset.visitor === "true",
    })),
    chat: items("[data-breakout-chat] [data-message-id]").map((item) => ({
      id: item.dataset.messageId,
      author_id: item.dataset.authorId ?? "",
      author: item.querySelector(".chat-author")?.textContent ?? "",
      text: item.querySelector(".chat-text")?.textContent ?? "",
      at: item.querySelector("time")?.getAttribute("datetime") ?? "",
    })),
  };
}

export class RoomSession extends Observable {
  /** The session's break-outs snapshot (null before the first). */
  state = null;
  /** The room topic's snapshot: who is here before the first break-outs snapshot. */
  roomView = null;
  /** @type {import("./room-logic.js").Banner[]} */
  banners = [];
  /** The page's error line (role=alert), and how many times it was set: the same message
   *  again is a new one to announce. */
  error = "";
  errors = 0;
  /** The socket's status. */
  connection = "connecting";
  sending = false;
  leaving = false;
  /** The help button as last worked out (null until the first snapshot). */
  help = null;
  helpBusy = false;
  /** The people list follows the room (until then it lists whom the server rendered). */
  peopleLive = false;
  /** The round's clock: it changes every second, so it has observers of its own. */
  clock = new Observable();

  /**
   * @param {RoomPageData} page
   * @param {import("./room-call.js").RoomCall} call
   */
  constructor(page, call) {
    super();
    this.page = page;
    this.call = call;
    this.code = page.code;
    this.roomId = page.roomId;
    this.me = page.me;
    this.base = `/api/sessions/${page.code}/breakouts`;
    this.roomBase = `${this.base}/rooms/${page.roomId}`;
    this.serverClock = new ServerClock();
    // as the page was rendered, for the clock until the first snapshot
    this.initial = { phase: page.phase, ends_at: page.endsAt, closes_at: page.closesAt, warning: null };
    this.phase = page.phase;
    this.wasVisiting = page.visiting;
    this.messages = page.chat;
    this.warningShown = null;
    this.lastRecheck = 0;
    this.lastBroadcast = null;
    this.realtime = null;
    this.ticker = null;
    const closing = page.phase === "closing";
    this.clockView = { label: closing ? t("Back to the main session in") : t("Time left"), text: "–:––", state: page.phase };
    call.hooks = { fail: (message) => this.fail(message), refused: () => this.recheck() };
  }

  start() {
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) window.location.reload(); // back from the cache: start afresh
    });
    const realtime = pageRealtime();
    this.realtime = realtime;
    realtime.onStatus((status) => {
      this.connection = status;
      this.changed();
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
    this.call.start();
  }

  // -- who is here ------------------------------------------------------------------------

  people() {
    return roomPeople(this.state, this.roomId, this.roomView);
  }

  visiting() {
    return Boolean(roomById(this.state, this.roomId)?.visitors.some((v) => v.id === this.me))
      || (this.state === null && this.page.visiting);
  }

  // -- where this person belongs ----------------------------------------------------------

  applyBreakouts(state) {
    const previous = this.state;
    this.state = state;
    if (this.leaving) return;
    const away = whereTo(state, { me: this.me, roomId: this.roomId, code: this.code, home: this.home() });
    if (away) {
      this.goTo(away.url, away.message);
      return;
    }
    this.phase = state.phase;
    this.wasVisiting = this.visiting();
    if (previous === null) this.firstBroadcast();
    const round = roundBanners(this.banners, previous, state, this.warningShown, (iso) => this.serverClock.until(iso));
    this.banners = round.banners;
    this.warningShown = round.warningShown;
    this.renderHelp();
    this.peopleLive = true;
    this.changed();
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
    return homeOf(this.code, this.wasVisiting);
  }

  goTo(url, message) {
    if (this.leaving) return;
    this.leaving = true;
    this.banner("leaving", message);
    // The server ends the calls of whoever is no longer in a room (rooms closed, moved, left)
    // by itself: leave without DELETEs that would race it.
    this.call.leave(false);
    this.realtime?.stop();
    clearInterval(this.ticker);
    window.location.assign(url);
  }

  // -- the round's clock and banners ------------------------------------------------------

  tick() {
    const state = this.state ?? this.initial;
    if (this.leaving) return;
    const left = this.serverClock.until(clockTarget(state)) ?? 0;
    const look = clockLook(state, left);
    const text = formatCountdown(left);
    const shown = this.clockView;
    if (shown.text !== text || shown.label !== look.label || shown.state !== look.state) {
      this.clockView = { ...look, text };
      this.clock.changed();
    }
    if (state.phase === "closing" && left <= 0) {
      this.goTo(this.home(), t("The break-out rooms have closed. Back to the main session…"));
    }
  }

  banner(kind, text) {
    this.banners = withBanner(this.banners, { kind, text });
    this.changed();
  }

  dropBanner(kind) {
    this.banners = withoutBanner(this.banners, kind);
    this.changed();
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
    this.banners = withBanner(this.banners, { kind: "broadcast", text, at });
    this.changed();
  }

  /** The person dismissed the moderators' message sent ``at``: not shown again in this tab. */
  dismissBroadcast(at) {
    this.dropBanner("broadcast");
    try {
      window.sessionStorage.setItem(DISMISSED, at);
    } catch {
      // nothing to remember it in
    }
  }

  // -- the room topic: chat and call ------------------------------------------------------

  applyRoom(room) {
    this.roomView = room;
    this.messages = withMessages(this.messages, room.chat);
    this.applyCall(room.call);
  }

  applyCall(call) {
    if (!this.leaving && !this.call.dormant) this.peopleLive = true;
    this.call.applyCall(call);
    this.changed();
  }

  addMessage(message) {
    this.messages = withMessages(this.messages, [message]);
    this.changed();
  }

  /** Send ``text`` to the room's chat; true once the server has it. */
  async sendChat(text) {
    if (this.sending) return false;
    this.sending = true;
    this.changed();
    try {
      await post(`${this.roomBase}/chat`, { text });
      this.error = "";
      return true;
    } catch (error) {
      this.fail(error instanceof ApiError ? error.message : t("The message was not sent. Try again."));
      return false;
    } finally {
      this.sending = false;
      this.changed();
    }
  }

  // -- help and leaving -------------------------------------------------------------------

  /** Work out the help button from the latest snapshot; a request that was answered takes
   *  its banner with it. */
  renderHelp() {
    const pending = Boolean(roomById(this.state, this.roomId)?.help);
    if (this.help?.pending && !pending) this.banners = withoutBanner(this.banners, "help");
    this.help = { pending, hidden: this.visiting(), disabled: pending || this.state?.phase !== "open" };
  }

  async askHelp() {
    this.helpBusy = true;
    this.changed();
    try {
      await post(`${this.base}/help`);
      this.banner("help", t("The moderators know your room would like help. One of them will join you shortly."));
    } catch (error) {
      if (error.code === "breakouts.help_pending") {
        this.banner("help", t("Someone in your room has already asked: a moderator is on the way."));
      } else {
        this.fail(error instanceof ApiError ? error.message : t("Asking for help did not work. Try again."));
      }
    } finally {
      this.helpBusy = false;
      this.renderHelp();
      this.changed();
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
    this.goTo(homeOf(this.code, visiting), t("You left the room."));
  }

  fail(message) {
    this.error = message;
    this.errors += 1;
    this.changed();
  }
}
