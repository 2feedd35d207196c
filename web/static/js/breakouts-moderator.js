// The moderator console's break-out panel: plan rooms, place people (automatically, by hand,
// or let them choose), open the rooms for a while, extend, message every room, answer help
// requests, visit a room and close with a countdown. Live over the session's break-outs
// topic, with help requests from the moderators' topic.
// Every text from a participant goes into the page with textContent, never as HTML.
import { ApiError, post } from "../lib/api.js";
import {
  ServerClock,
  formatCountdown,
  keepingFocus,
  loadBreakouts,
  placesLeft,
  plural,
  roomById,
} from "../lib/breakouts/common.js";
import { clock, el } from "../lib/dom.js";
import { pageRealtime } from "../lib/realtime.js";

const PHASES = { planning: "Planning", open: "Open", closing: "Closing", closed: "Closed" };
const MODE_HINTS = {
  auto: "Everyone who takes part is dealt into the rooms at random, evenly; late arrivals join the emptiest room.",
  manual: "You place each person yourself (Assign automatically still helps as a start).",
  self: "Participants pick a room on the session page, as long as it has free seats.",
};
const DEFAULT_ROWS = 2;
const DEFAULT_CAPACITY = 12;
const TICK_MS = 250;
const MAX_ROOMS = 50;

function people(count) {
  return count === 1 ? "1 person" : `${count} people`;
}

class BreakoutsConsole {
  constructor(root) {
    this.root = root;
    this.code = root.dataset.sessionCode;
    this.me = root.dataset.moderatorId;
    this.base = `/api/sessions/${this.code}/breakouts`;
    this.find = (name) => root.querySelector(`[data-bo-${name}]`);
    this.serverClock = new ServerClock();
    this.state = null;
    this.planDirty = false;
    this.asked = new Map(); // room id -> name of who asked for help
    this.deferred = false;
    this.redrawFocused = false;
    this.focusVisit = null;
    this.rowIds = 0;
  }

  start() {
    this.bindPlan();
    this.bindRun();
    this.bindRooms();
    const realtime = pageRealtime();
    realtime.subscribe(`session:${this.code}:breakouts`, {
      snapshot: (state) => this.apply(state),
      event: (changes) => {
        for (const change of changes) if (change.type === "breakouts") this.apply(change.breakouts);
      },
      error: (error) => this.fail(error.message),
    });
    realtime.subscribe(`session:${this.code}:moderation`, {
      snapshot: () => {},
      event: (changes) => {
        for (const change of changes) if (change.type === "help") this.helpAsked(change);
      },
    });
    loadBreakouts(this.code, this.serverClock).catch(() => {}); // the server's clock
    setInterval(() => this.tick(), TICK_MS);
  }

  // -- state ------------------------------------------------------------------------------

  apply(state) {
    const previous = this.state;
    this.state = state;
    if (previous && previous.phase !== state.phase) {
      this.find("status").textContent = ""; // said what was done; the phase now says more
      this.announce({
        planning: "Planning new break-out rooms.",
        open: "The break-out rooms are open.",
        closing: "The break-out rooms are closing.",
        closed: "The break-out rooms are closed. Everyone is back in the main session.",
      }[state.phase]);
    }
    for (const room of state.rooms) if (!room.help) this.asked.delete(room.room_id);
    this.render();
  }

  helpAsked(change) {
    this.asked.set(change.room_id, change.name);
    const room = roomById(this.state, change.room_id);
    this.announce(`${change.name} in ${room?.name ?? "a room"} asks for help.`);
    this.renderHelp();
  }

  // -- rendering --------------------------------------------------------------------------

  render() {
    const state = this.state;
    const planning = state.phase === "planning" || state.phase === "closed";
    const running = state.phase === "open" || state.phase === "closing";
    const phase = this.find("phase");
    phase.textContent = state.planned ? PHASES[state.phase] : "Not planned";
    phase.className = `badge bo-phase bo-phase-${state.planned ? state.phase : "none"}`;
    this.root.dataset.phase = state.phase;
    this.find("summary").textContent = this.summary();
    this.find("plan").hidden = !planning;
    this.find("rooms-section").hidden = !state.planned || state.phase === "closed";
    this.find("run").hidden = !state.planned || state.phase === "closed";
    this.find("open-form").hidden = state.phase !== "planning";
    this.find("running").hidden = !running;
    this.find("close-form").hidden = state.phase !== "open";
    this.find("broadcast").hidden = !running;
    // Dealing everyone afresh would pull people out of running conversations: only before
    // the rooms open. Rebalancing moves as few people as it can, so it stays available.
    this.find("command=assign").disabled = state.phase !== "planning" || !this.poolSize();
    this.find("command=rebalance").disabled = !["planning", "open"].includes(state.phase) || !this.poolSize();
    if (planning) this.fillPlan();
    this.renderSent();
    this.renderHelp();
    this.renderVisit();
    this.renderRooms();
    this.tick();
  }

  poolSize() {
    return this.state.unassigned.length + this.state.rooms.reduce((sum, room) => sum + room.members.length, 0);
  }

  /** Pool members whose page closed: they are not dealt into rooms until they come back. */
  offline() {
    const everyone = [...this.state.unassigned, ...this.state.rooms.flatMap((room) => room.members)];
    return everyone.filter((person) => person.online === false).length;
  }

  summary() {
    const state = this.state;
    if (!state.planned) return "No rooms yet. Plan them below; participants see them on the session page.";
    const rooms = plural(state.rooms.length, "room");
    const offline = this.offline();
    const waiting = state.unassigned.filter((person) => person.online !== false).length;
    const taking = `${people(this.poolSize() - offline)}${offline ? " online" : ""} taking part`;
    const rest = (waiting ? `, ${waiting} not in a room yet` : "") + (offline ? `, ${offline} offline` : "");
    switch (state.phase) {
      case "planning":
        return `${rooms} planned · ${taking}${rest}.`;
      case "open":
        return `${rooms} open · ${taking}${rest}.`;
      case "closing":
        return "The rooms are closing: everyone returns to the main session when the countdown ends.";
      default:
        return `The last round of ${rooms} is over. Plan a new round below.`;
    }
  }

  tick() {
    const state = this.state;
    const box = this.find("clock");
    if (!state || !["open", "closing"].includes(state.phase)) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    const closing = state.phase === "closing";
    const left = this.serverClock.until(closing ? state.closes_at : state.ends_at) ?? 0;
    const text = formatCountdown(left);
    const countdown = this.find("countdown");
    if (countdown.textContent !== text) countdown.textContent = text;
    this.find("clock-label").textContent = closing ? "Rooms close in" : "Time left";
    box.dataset.state = closing ? "closing" : state.warning ? "warning" : "open";
    const warning = this.find("warning");
    warning.hidden = closing || !state.warning;
    warning.textContent = state.warning ? `Rooms see: ${plural(state.warning, "minute")} left` : "";
  }

  // -- the plan ---------------------------------------------------------------------------

  bindPlan() {
    const form = this.find("plan");
    form.addEventListener("input", () => {
      this.planDirty = true;
    });
    form.addEventListener("change", (event) => {
      this.planDirty = true;
      if (event.target.name === "bo-assignment") this.showModeHint();
    });
    this.find("add-room").addEventListener("click", () => {
      const rows = this.planRows();
      if (rows.length >= MAX_ROOMS) return this.fail(`At most ${MAX_ROOMS} rooms.`);
      this.planDirty = true;
      const row = this.planRow({ room_id: "", name: `Room ${rows.length + 1}`, topic: "", capacity: DEFAULT_CAPACITY });
      this.find("plan-rows").append(row);
      this.numberRows();
      row.querySelector("[data-field=name]").select();
      row.querySelector("[data-field=name]").focus();
    });
    this.find("plan-rows").addEventListener("click", (event) => {
      const remove = event.target.closest("[data-remove-room]");
      if (!remove) return;
      const rows = this.planRows();
      if (rows.length <= 1) return this.fail("Keep at least one room.");
      const row = remove.closest("tr");
      const index = rows.indexOf(row);
      this.planDirty = true;
      row.remove();
      this.numberRows();
      const next = this.planRows()[Math.min(index, this.planRows().length - 1)];
      (next?.querySelector("[data-remove-room]") ?? this.find("add-room")).focus();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.savePlan();
    });
  }

  planRows() {
    return [...this.find("plan-rows").querySelectorAll("tr")];
  }

  planRow(room) {
    const id = `bo-row-${++this.rowIds}`;
    const input = (field, attributes) => el("input", { id: `${id}-${field}`, "data-field": field, ...attributes });
    const name = input("name", { maxlength: "80", required: true, autocomplete: "off" });
    name.value = room.name;
    const topic = input("topic", { maxlength: "280", autocomplete: "off" });
    topic.value = room.topic;
    const seats = input("capacity", { type: "number", min: "2", max: "50", step: "1", inputmode: "numeric", required: true });
    seats.value = String(room.capacity);
    return el(
      "tr",
      { "data-room-id": room.room_id },
      el("td", {}, name),
      el("td", {}, topic),
      el("td", { class: "bo-seats" }, seats),
      el("td", {}, el("button", { type: "button", class: "secondary bo-remove", "data-remove-room": "", text: "Remove" })),
    );
  }

  /** Label each row's fields by its position: "Name of room 2". */
  numberRows() {
    this.planRows().forEach((row, index) => {
      const n = index + 1;
      row.querySelector("[data-field=name]").setAttribute("aria-label", `Name of room ${n}`);
      row.querySelector("[data-field=topic]").setAttribute("aria-label", `Topic of room ${n}`);
      row.querySelector("[data-field=capacity]").setAttribute("aria-label", `Seats in room ${n}`);
      row.querySelector("[data-remove-room]").setAttribute("aria-label", `Remove room ${n}`);
    });
  }

  fillPlan() {
    const state = this.state;
    const submit = this.find("plan-submit");
    const heading = this.find("plan-heading");
    if (state.phase === "closed") {
      heading.textContent = "Plan a new round";
      submit.textContent = "Create the rooms";
    } else {
      heading.textContent = state.planned ? "Change the rooms" : "Plan the rooms";
      submit.textContent = state.planned ? "Save the changes" : "Create the rooms";
    }
    if (this.planDirty) return;
    const rooms = state.planned
      ? state.rooms
      : Array.from({ length: DEFAULT_ROWS }, (_, index) => ({
        room_id: "",
        name: `Room ${index + 1}`,
        topic: "",
        capacity: DEFAULT_CAPACITY,
      }));
    keepingFocus(this.find("plan"), () => {
      this.find("plan-rows").replaceChildren(...rooms.map((room) => this.planRow(room)));
    });
    this.numberRows();
    for (const radio of this.root.querySelectorAll("input[name=bo-assignment]")) {
      radio.checked = radio.value === state.assignment;
    }
    this.showModeHint();
  }

  showModeHint() {
    const mode = this.root.querySelector("input[name=bo-assignment]:checked")?.value ?? "auto";
    this.find("mode-hint").textContent = MODE_HINTS[mode];
  }

  readPlan() {
    const rows = this.planRows();
    const used = new Set(rows.map((row) => row.dataset.roomId).filter(Boolean));
    let next = 1;
    const freshId = () => {
      while (used.has(`room-${next}`)) next += 1;
      used.add(`room-${next}`);
      return `room-${next}`;
    };
    const rooms = [];
    for (const [index, row] of rows.entries()) {
      const name = row.querySelector("[data-field=name]");
      const capacity = row.querySelector("[data-field=capacity]");
      name.setAttribute("aria-invalid", "false");
      capacity.setAttribute("aria-invalid", "false");
      if (!name.value.trim()) {
        name.setAttribute("aria-invalid", "true");
        name.focus();
        throw new Error(`Room ${index + 1} needs a name.`);
      }
      const seats = Number(capacity.value);
      if (!Number.isInteger(seats) || seats < 2 || seats > 50) {
        capacity.setAttribute("aria-invalid", "true");
        capacity.focus();
        throw new Error(`Room ${index + 1} seats between 2 and 50 people.`);
      }
      rooms.push({
        room_id: row.dataset.roomId || freshId(),
        name: name.value.trim(),
        topic: row.querySelector("[data-field=topic]").value.trim(),
        capacity: seats,
      });
    }
    const assignment = this.root.querySelector("input[name=bo-assignment]:checked")?.value ?? "auto";
    return { rooms, assignment };
  }

  async savePlan() {
    let plan;
    try {
      plan = this.readPlan();
    } catch (error) {
      this.fail(error.message);
      return;
    }
    const again = this.state?.planned && this.state.phase === "planning";
    const submit = this.find("plan-submit");
    submit.disabled = true;
    try {
      await post(`${this.base}/plan`, plan);
      this.planDirty = false;
      this.planRows().forEach((row, index) => {
        row.dataset.roomId = plan.rooms[index].room_id;
      });
      this.say(again ? "Rooms saved." : `${plural(plan.rooms.length, "room")} created. Participants can now take part.`);
    } catch (error) {
      this.fail(error.message);
    } finally {
      submit.disabled = false;
    }
  }

  // -- running the round ------------------------------------------------------------------

  bindRun() {
    this.find("open-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const minutes = Number(event.target.elements.minutes.value);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 240) {
        this.fail("Open the rooms for 1 to 240 minutes.");
        return;
      }
      const waiting = this.state.unassigned.length;
      this.command("open", { minutes }, `Rooms open for ${plural(minutes, "minute")}.${waiting ? ` ${waiting} not in a room yet: place them, or use Rebalance.` : ""}`, event.submitter);
    });
    this.root.addEventListener("click", (event) => {
      const extend = event.target.closest("[data-bo-extend]");
      if (extend) {
        const minutes = Number(extend.dataset.boExtend);
        this.command("extend", { minutes }, `Extended by ${minutes} minutes.`, extend);
      }
    });
    this.find("close-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const grace = Number(event.target.elements.grace_seconds.value);
      if (!Number.isInteger(grace) || grace < 0 || grace > 300) {
        this.fail("The countdown before closing is 0 to 300 seconds.");
        return;
      }
      this.command(
        "close",
        { grace_seconds: grace },
        grace ? `Rooms close in ${grace} seconds.` : "Rooms closed.",
        event.submitter,
      );
    });
    this.find("broadcast-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const field = event.target.elements.text;
      const text = field.value.trim();
      if (!text) {
        this.fail("Write the message first.");
        field.focus();
        return;
      }
      if (await this.command("broadcast", { text }, "Message sent to all rooms.", event.submitter)) field.value = "";
    });
  }

  async command(action, body, done, button) {
    if (button) button.disabled = true;
    try {
      await post(`${this.base}/${action}`, body);
      if (done) this.say(done);
      return true;
    } catch (error) {
      this.fail(error instanceof ApiError ? error.message : "That did not work. Try again.");
      return false;
    } finally {
      if (button) button.disabled = false;
    }
  }

  renderSent() {
    const sent = [...this.state.broadcasts].reverse().slice(0, 5);
    this.find("sent").replaceChildren(
      ...sent.map((message) =>
        el(
          "li",
          {},
          el("time", { datetime: message.at, text: clock.format(new Date(message.at)) }),
          " ",
          el("span", { text: message.text }),
        ),
      ),
    );
  }

  // -- help requests and visits -----------------------------------------------------------

  renderHelp() {
    const state = this.state;
    if (!state) return;
    const asking = state.rooms.filter((room) => room.help);
    this.find("help").hidden = asking.length === 0;
    keepingFocus(this.find("help"), () => {
      this.find("help-list").replaceChildren(
        ...asking.map((room) =>
          el(
            "li",
            { class: "bo-help-item", "data-help-room": room.room_id },
            el("span", {}, el("strong", { text: room.help.name ?? this.asked.get(room.room_id) ?? "Someone" }), ` in ${room.name} asks for help.`),
            el("span", { class: "bo-help-actions" }, ...this.visitControls(room, "help"), el("button", {
              type: "button",
              class: "secondary",
              "data-bo-answer": room.room_id,
              "data-focus-key": `answer:${room.room_id}`,
              "aria-label": `Done: ${room.name} has been helped`,
              text: "Done",
            })),
          ),
        ),
      );
    });
  }

  visiting() {
    return this.state?.rooms.find((room) => room.visitors.some((v) => v.id === this.me)) ?? null;
  }

  renderVisit() {
    const room = this.visiting();
    const box = this.find("visit");
    box.hidden = !room;
    if (!room) {
      box.replaceChildren();
      return;
    }
    keepingFocus(box, () => {
      box.replaceChildren(
        el("p", {}, "You are visiting ", el("strong", { text: room.name }), "."),
        el("a", {
          class: "button-link",
          href: `/sessions/${this.code}/breakouts/${room.room_id}`,
          target: "_blank",
          rel: "noopener",
          "data-focus-key": "visit-link",
          "data-bo-room-link": room.room_id,
          text: `Open ${room.name} (new tab)`,
        }),
        el("button", { type: "button", class: "secondary", "data-bo-leave-visit": "", "data-focus-key": "leave-visit", text: "Stop visiting" }),
      );
    });
    if (this.focusVisit === room.room_id) {
      this.focusVisit = null;
      box.querySelector("[data-bo-room-link]").focus();
    }
  }

  visitControls(room, where) {
    if (!["open", "closing"].includes(this.state.phase)) return [];
    if (room.visitors.some((v) => v.id === this.me)) {
      return [el("a", {
        class: "button-link secondary",
        href: `/sessions/${this.code}/breakouts/${room.room_id}`,
        target: "_blank",
        rel: "noopener",
        "data-focus-key": `open:${where}:${room.room_id}`,
        "aria-label": `Open ${room.name} (new tab)`,
        text: "Open room",
      })];
    }
    return [el("button", {
      type: "button",
      class: "secondary",
      "data-bo-visit-room": room.room_id,
      "data-focus-key": `visit:${where}:${room.room_id}`,
      "aria-label": `Join ${room.name}`,
      text: "Join room",
    })];
  }

  // -- rooms and people -------------------------------------------------------------------

  bindRooms() {
    this.root.addEventListener("click", async (event) => {
      const target = event.target.closest("button");
      if (!target || !this.root.contains(target)) return;
      const { boCommand, boVisitRoom, boAnswer } = target.dataset;
      if (boCommand === "assign") {
        this.command("assign", {}, "Everyone taking part has been dealt into the rooms.", target);
      } else if (boCommand === "rebalance") {
        this.command("rebalance", {}, "Rooms rebalanced.", target);
      } else if (boVisitRoom) {
        const room = roomById(this.state, boVisitRoom);
        this.focusVisit = boVisitRoom;
        // One click joins: the tab opens now, inside the click (so no popup blocker stops
        // it), and goes to the room once the visit is recorded.
        const tab = window.open("", "_blank");
        if (await this.command("visit", { room_id: boVisitRoom }, `You are visiting ${room?.name ?? "the room"}; it opened in a new tab.`, target)) {
          this.renderVisit();
          const url = `/sessions/${this.code}/breakouts/${boVisitRoom}`;
          if (tab) tab.location.href = url;
          else location.assign(url);
        } else {
          this.focusVisit = null;
          tab?.close();
        }
      } else if ("boLeaveVisit" in target.dataset) {
        this.command("visit", { room_id: "" }, "You left the room.", target);
      } else if (boAnswer) {
        this.command("answer-help", { room_id: boAnswer }, "Help request closed.", target);
      }
    });
    const rooms = this.find("rooms");
    rooms.addEventListener("change", (event) => {
      const select = event.target.closest("select[data-move]");
      if (!select) return;
      this.redrawFocused = true; // the list is closed now: the next snapshots may redraw it
      const person = select.dataset.move;
      const room = select.value;
      const name = select.dataset.name;
      const label = room ? roomById(this.state, room)?.name : "no room";
      this.command("move", { participant_id: person, room_id: room }, `${name} moved to ${label}.`).then((moved) => {
        if (!moved) this.renderRooms(true);
      });
    });
    for (const kind of ["mousedown", "keydown"]) {
      rooms.addEventListener(kind, (event) => {
        if (event.target.matches?.("select[data-move]")) this.redrawFocused = false; // opening it again
      });
    }
    rooms.addEventListener("focusout", () => {
      if (this.deferred) {
        this.deferred = false;
        queueMicrotask(() => this.renderRooms());
      }
    });
  }

  renderRooms(force = false) {
    const state = this.state;
    const section = this.find("rooms");
    const active = document.activeElement;
    if (!force && !this.redrawFocused && active?.tagName === "SELECT" && section.contains(active)) {
      this.deferred = true; // do not close a list the moderator has open
      return;
    }
    const offline = this.offline();
    const online = this.poolSize() - offline;
    const waiting = state.unassigned.filter((person) => person.online !== false).length;
    this.find("pool").textContent = this.poolSize()
      ? `${people(online)}${offline ? " online" : ""} taking part`
        + (waiting ? ` · ${waiting} not in a room` : online ? ` · everyone${offline ? " online" : ""} has a room` : "")
        + (offline ? ` · ${offline} offline (their page is closed)` : "")
      : "Nobody takes part yet: participants join from the session page.";
    const editable = ["planning", "open", "closing"].includes(state.phase);
    keepingFocus(section, () => {
      const cards = state.rooms.map((room) => this.roomCard(room, editable));
      if (state.unassigned.length) cards.push(this.waitingCard(editable));
      section.replaceChildren(...cards);
    });
  }

  roomCard(room, editable) {
    const free = placesLeft(room);
    const classes = ["bo-room-card"];
    if (room.help) classes.push("is-help");
    const visitors = room.visitors.length
      ? el("p", { class: "muted bo-visitors", text: `Visiting: ${room.visitors.map((v) => v.name).join(", ")}` })
      : null;
    return el(
      "article",
      { class: classes.join(" "), "data-room-card": room.room_id, "aria-labelledby": `bo-card-${room.room_id}` },
      el(
        "header",
        { class: "bo-room-card-head" },
        el("h4", { id: `bo-card-${room.room_id}`, text: room.name }),
        el("span", { class: "bo-count", text: `${room.members.length}/${room.capacity}`, title: `${plural(free, "seat")} free` }),
        room.help ? el("span", { class: "badge bo-help-badge", text: "Asks for help" }) : null,
      ),
      room.topic ? el("p", { class: "bo-room-topic", text: room.topic }) : null,
      this.peopleList(room.members, room.room_id, editable),
      visitors,
      el("div", { class: "bo-room-actions" }, ...this.visitControls(room, "card")),
    );
  }

  waitingCard(editable) {
    const waiting = this.state.unassigned;
    return el(
      "article",
      { class: "bo-room-card bo-waiting", "data-room-card": "", "aria-labelledby": "bo-card-waiting" },
      el(
        "header",
        { class: "bo-room-card-head" },
        el("h4", { id: "bo-card-waiting", text: "Not in a room" }),
        el("span", { class: "bo-count", text: String(waiting.length) }),
      ),
      this.peopleList(waiting, "", editable),
    );
  }

  peopleList(people, roomId, editable) {
    if (!people.length) return el("p", { class: "muted bo-empty", text: "Empty." });
    return el(
      "ul",
      { class: "plain bo-people" },
      ...people.map((person) => {
        const id = `bo-move-${person.id}`;
        const select = el("select", {
          id,
          "data-move": person.id,
          "data-name": person.name,
          "data-focus-key": `move:${person.id}`,
        });
        select.append(new Option("Not in a room", "", false, roomId === ""));
        for (const room of this.state.rooms) {
          const full = placesLeft(room) === 0 && room.room_id !== roomId;
          const option = new Option(`${room.name}${full ? " (full)" : ""}`, room.room_id, false, room.room_id === roomId);
          option.disabled = full;
          select.append(option);
        }
        select.disabled = !editable;
        const away = person.online === false;
        return el(
          "li",
          { class: `bo-person${away ? " is-offline" : ""}`, "data-person": person.id, "data-online": String(!away) },
          el(
            "label",
            { for: id },
            el("span", { class: "bo-person-name", text: person.name }),
            away ? el("span", { class: "badge bo-offline", text: "offline" }) : null,
            el("span", { class: "visually-hidden", text: ": room" }),
          ),
          select,
        );
      }),
    );
  }

  // -- feedback ---------------------------------------------------------------------------

  say(message) {
    this.find("error").textContent = "";
    this.find("status").textContent = message;
  }

  fail(message) {
    this.find("status").textContent = "";
    this.find("error").textContent = message;
  }

  announce(message) {
    this.find("announce").textContent = message;
  }
}

const root = document.querySelector("[data-bo-console]");
if (root) new BreakoutsConsole(root).start();
