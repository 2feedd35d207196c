// The session page's break-out card: take part, pick a room when the moderators let people
// choose, and go to your room when the rooms open (by itself when they open while this page
// is showing). Live over the session's break-outs topic.
// Every text from a participant goes into the page with textContent, never as HTML.
import { ApiError, post } from "../lib/api.js";
import { el } from "../lib/dom.js";
import { nt, split, t } from "../lib/i18n.js";
import { pageRealtime } from "../lib/realtime.js";
import { countdownText } from "../lib/time-format.js";
import {
  ServerClock,
  broadcastBanner,
  connectionText,
  inPool,
  keepingFocus,
  loadBreakouts,
  placesLeft,
  roomById,
  roomOf,
} from "../lib/breakouts/common.js";

function phaseName(phase) {
  switch (phase) {
    case "planning": return t("Coming up");
    case "open": return t("Open");
    case "closing": return t("Closing");
    default: return t("Ended");
  }
}

function assignmentHint(assignment) {
  switch (assignment) {
    case "manual": return t("The moderators place everyone in a room.");
    case "self": return t("You pick the room you want.");
    default: return t("You are placed in a room automatically.");
  }
}

class BreakoutsCard {
  constructor(root) {
    this.root = root;
    this.code = root.dataset.sessionCode;
    this.me = root.dataset.participantId;
    this.find = (name) => root.querySelector(`[data-breakouts-${name}]`);
    this.serverClock = new ServerClock();
    this.state = null;
    this.busy = false;
    this.navigating = false;
    this.lastBroadcast = null;
  }

  start() {
    this.find("body").addEventListener("click", (event) => this.onClick(event));
    const realtime = pageRealtime();
    realtime.onStatus((status) => {
      const label = this.find("connection");
      label.hidden = status === "live";
      label.dataset.state = status;
      label.textContent = connectionText(status);
    });
    realtime.subscribe(`session:${this.code}:breakouts`, {
      snapshot: (state) => this.apply(state),
      event: (changes) => {
        for (const change of changes) {
          if (change.type === "breakouts") this.apply(change.breakouts);
          else if (change.type === "broadcast") this.showBroadcast(change.text, change.at);
        }
      },
      error: (error) => this.fail(error.message),
    });
    loadBreakouts(this.code, this.serverClock).catch(() => {}); // only to read the server's clock
    setInterval(() => this.tick(), 250);
  }

  // -- state ----------------------------------------------------------------------------

  apply(state) {
    const previous = this.state;
    this.state = state;
    const room = roomOf(state, this.me);
    if (previous && state.phase === "open" && room) {
      const wasIn = previous.phase === "open" ? roomOf(previous, this.me) : null;
      if (wasIn !== room) {
        this.goToRoom(room);
        return;
      }
    }
    if (previous === null) this.lastBroadcast = state.broadcasts.at(-1)?.at ?? null; // already read in the rooms
    this.render();
  }

  goToRoom(roomId) {
    if (this.navigating) return;
    this.navigating = true;
    const room = roomById(this.state, roomId);
    this.say(room ? t("{room} is open. Taking you there…", { room: room.name }) : t("Your room is open. Taking you there…"));
    window.location.assign(`/sessions/${this.code}/breakouts/${roomId}`);
  }

  // -- rendering --------------------------------------------------------------------------

  render() {
    const state = this.state;
    this.root.hidden = !state.planned;
    this.root.dataset.phase = state.phase;
    const badge = this.find("phase");
    badge.textContent = phaseName(state.phase);
    badge.className = `badge bo-phase bo-phase-${state.phase}`;
    keepingFocus(this.root, () => this.find("body").replaceChildren(...this.body()));
    this.tick();
  }

  body() {
    const state = this.state;
    const parts = [];
    const mine = roomById(state, roomOf(state, this.me));
    const taking = inPool(state, this.me);
    const running = state.phase === "open" || state.phase === "closing";
    if (state.phase === "closed") {
      parts.push(el("p", { text: t("The break-out rooms have ended. Welcome back to the main session.") }));
      return parts;
    }
    if (state.phase !== "planning") parts.push(this.clockLine());
    if (!this.me) {
      parts.push(
        el(
          "p",
          {},
          ...split(t("{join} (under Questions) to take part in the break-out rooms."), {
            join: el("a", { href: "#questions", text: t("Join with a display name") }),
          }),
        ),
      );
      parts.push(this.roomList(false));
      return parts;
    }
    if (mine && running) {
      parts.push(
        this.yourRoom(mine),
        el("p", {}, el("a", { class: "button-link", href: `/sessions/${this.code}/breakouts/${mine.room_id}`, "data-breakouts-go": "", text: t("Go to your room") })),
      );
    } else if (mine) {
      parts.push(
        this.yourRoom(mine),
        el("p", { class: "muted", text: t("It opens when the moderators start the break-out rooms: this page takes you there.") }),
      );
    } else if (taking) {
      parts.push(
        el("p", {
          text: state.assignment === "self"
            ? t("You are taking part. Pick a room below.")
            : running
              ? t("You are taking part. A moderator will place you in a room.")
              : t("You are taking part. You get a room when the moderators assign them."),
        }),
      );
    } else {
      const count = state.rooms.length;
      const hint = assignmentHint(state.assignment);
      parts.push(
        el("p", {
          text: running
            ? nt("{count} room is open now. {hint}", "{count} rooms are open now. {hint}", count, { hint })
            : nt(
              "The moderators have planned {count} room for small-group discussion. {hint}",
              "The moderators have planned {count} rooms for small-group discussion. {hint}",
              count,
              { hint },
            ),
        }),
      );
    }
    const selfSelect = state.assignment === "self" && state.phase !== "closing";
    parts.push(this.roomList(selfSelect, mine?.room_id ?? null));
    const actions = el("div", { class: "bo-actions" });
    if (!taking && !selfSelect && state.phase !== "closing") {
      actions.append(el("button", { type: "button", "data-action": "join", "data-focus-key": "join", text: t("Take part") }));
    }
    if (taking && !running) {
      actions.append(el("button", { type: "button", class: "secondary", "data-action": "leave", "data-focus-key": "leave", text: t("Don't take part") }));
    } else if (taking && running && !mine) {
      actions.append(el("button", { type: "button", class: "secondary", "data-action": "leave", "data-focus-key": "leave", text: t("Stop waiting") }));
    }
    if (actions.children.length) parts.push(actions);
    return parts;
  }

  clockLine() {
    const state = this.state;
    if (state.phase === "planning") return null;
    const label = state.phase === "closing" ? t("Closing in {countdown}") : t("Time left: {countdown}");
    return el(
      "p",
      { class: "bo-clock" },
      ...split(label, { countdown: el("span", { class: "bo-countdown", role: "timer", "data-breakouts-countdown": "" }) }),
      state.warning
        ? el("span", { class: "badge bo-warning", text: nt("Last {count} minute", "Last {count} minutes", state.warning) })
        : null,
    );
  }

  /** "Your room: Room 1 · its topic". */
  yourRoom(room) {
    return el(
      "p",
      { class: "bo-your-room" },
      ...split(room.topic ? t("Your room: {room} · {topic}", { topic: room.topic }) : t("Your room: {room}"), {
        room: el("strong", { text: room.name }),
      }),
    );
  }

  roomList(pickable, mine = null) {
    const list = el("ul", { class: `bo-room-list${pickable ? " is-picker" : ""}`, "aria-label": pickable ? t("Pick a room") : t("The rooms") });
    for (const room of this.state.rooms) {
      const free = placesLeft(room);
      const item = el(
        "li",
        { class: `bo-room${room.room_id === mine ? " is-mine" : ""}`, "data-room": room.room_id },
        el(
          "div",
          { class: "bo-room-text" },
          el("strong", { text: room.name }),
          room.topic ? el("span", { class: "bo-room-topic", text: room.topic }) : null,
          el("span", {
            class: "bo-room-places",
            text: room.room_id === mine ? t("Your room") : free ? nt("{count} seat free", "{count} seats free", free) : t("Full"),
          }),
        ),
      );
      if (pickable && this.me && room.room_id !== mine) {
        const choose = el(
          "button",
          {
            type: "button",
            class: "secondary",
            "data-action": "choose",
            "data-room": room.room_id,
            "data-focus-key": `choose:${room.room_id}`,
            "aria-label": mine ? t("Switch to {room}", { room: room.name }) : t("Choose {room}", { room: room.name }),
          },
          mine ? t("Switch") : t("Choose"),
        );
        choose.disabled = free === 0;
        item.append(choose);
      }
      list.append(item);
    }
    return list;
  }

  tick() {
    const countdown = this.root.querySelector("[data-breakouts-countdown]");
    if (!countdown || !this.state) return;
    const target = this.state.phase === "closing" ? this.state.closes_at : this.state.ends_at;
    const text = countdownText(this.serverClock.until(target) ?? 0);
    if (countdown.textContent !== text) countdown.textContent = text;
  }

  showBroadcast(text, at) {
    if (this.lastBroadcast === at) return;
    this.lastBroadcast = at;
    const banners = this.find("banners");
    banners.querySelector(".bo-banner-broadcast")?.remove();
    banners.append(broadcastBanner(text, at));
  }

  // -- actions ----------------------------------------------------------------------------

  async onClick(event) {
    const button = event.target.closest("button[data-action]");
    if (!button || this.busy) return;
    const { action, room } = button.dataset;
    this.busy = true;
    button.setAttribute("aria-busy", "true");
    try {
      if (action === "join") {
        await post(`/api/sessions/${this.code}/breakouts/join`);
        this.announce(this.state.phase === "open" && this.state.assignment === "auto"
          ? t("You are taking part. Finding you a room…")
          : t("You are taking part."));
      } else if (action === "leave") {
        await post(`/api/sessions/${this.code}/breakouts/leave`);
        this.announce(t("You no longer take part in the break-out rooms."));
      } else if (action === "choose") {
        if (!inPool(this.state, this.me)) await post(`/api/sessions/${this.code}/breakouts/join`);
        await post(`/api/sessions/${this.code}/breakouts/choose`, { room_id: room });
        const chosen = roomById(this.state, room);
        this.announce(chosen ? t("You chose {room}.", { room: chosen.name }) : t("You chose a room."));
      }
    } catch (error) {
      this.fail(error instanceof ApiError ? error.message : t("That did not work. Try again."));
    } finally {
      this.busy = false;
      button.removeAttribute("aria-busy");
    }
  }

  say(message) {
    this.find("error").textContent = "";
    this.find("status").textContent = message;
  }

  /** For screen readers: what a click did, which the card's new content shows to the eye. */
  announce(message) {
    this.find("error").textContent = "";
    this.find("announce").textContent = message;
  }

  fail(message) {
    this.find("status").textContent = "";
    this.find("error").textContent = message;
  }
}

const root = document.querySelector("[data-breakouts-card]");
if (root) new BreakoutsCard(root).start();
