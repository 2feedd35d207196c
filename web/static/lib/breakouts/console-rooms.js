// The moderator console's rooms and people: a card per room with who is in it (each with a
// list to move them), the people not in a room yet, Assign automatically and Rebalance.
// A list the moderator has open is not redrawn under them: live updates wait until it closes.
import { html, useReducer, useRef } from "../html.js";
import { placesLeft, roomById } from "./common.js";
import { fill, nt, t } from "../i18n.js";
import { VisitControls } from "./console-help.js";
import { useFocusKept } from "./console-focus.js";
import { poolSize, poolText } from "./console-text.js";

/** The words this module's templates show, read when rendering (outside the templates,
 *  where the catalog's extractor finds them). */
const T = {
  get roomsAndPeople() { return t("Rooms and people"); },
  get everyoneTakingPartHasBeen() { return t("Everyone taking part has been dealt into the rooms."); },
  get assignAutomatically() { return t("Assign automatically"); },
  get roomsRebalanced() { return t("Rooms rebalanced."); },
  get rebalance() { return t("Rebalance"); },
  get dealsEveryoneTakingPartInto() { return t("Deals everyone taking part into the rooms at random; only before the rooms open."); },
  get asksForHelp() { return t("Asks for help"); },
  get visitingNames() { return t("Visiting: {names}"); },
  get notInARoom() { return t("Not in a room"); },
  get empty() { return t("Empty."); },
  get offline() { return t("offline"); },
  get room() { return t(": room"); },
  get roomFull() { return t("{room} (full)"); },
};

export function RoomsSection({ state, hidden, console: ctl }) {
  const pool = poolSize(state);
  // Dealing everyone afresh would pull people out of running conversations: only before
  // the rooms open. Rebalancing moves as few people as it can, so it stays available.
  const canAssign = state.phase === "planning" && pool > 0;
  const canRebalance = ["planning", "open"].includes(state.phase) && pool > 0;
  return html`
    <section class="bo-rooms" aria-labelledby="bo-rooms-heading" data-bo-rooms-section="" hidden=${hidden}>
      <div class="bo-section-head">
        <h3 id="bo-rooms-heading">${T.roomsAndPeople}</h3>
        <div class="bo-tools">
          <button type="button" class="secondary" data-bo-command="assign" data-focus-key="assign" aria-describedby="bo-assign-hint"
                  disabled=${!canAssign || ctl.busy.has("assign")}
                  onClick=${() => ctl.command("assign", {}, T.everyoneTakingPartHasBeen, "assign")}>${T.assignAutomatically}</button>
          <button type="button" class="secondary" data-bo-command="rebalance" data-focus-key="rebalance"
                  disabled=${!canRebalance || ctl.busy.has("rebalance")}
                  onClick=${() => ctl.command("rebalance", {}, T.roomsRebalanced, "rebalance")}>${T.rebalance}</button>
        </div>
      </div>
      <${RoomGrid} state=${state} console=${ctl} />
    </section>
  `;
}

/** Who is taking part and the room cards; held while a list in them is open. */
function RoomGrid({ state, console: ctl }) {
  const grid = useRef(null);
  const shown = useRef(state);
  const redrawFocused = useRef(false); // the list was closed with a choice: redraw it
  const deferred = useRef(false);
  const force = useRef(false);
  const moving = useRef(new Map()); // person id -> the room chosen for them, until the news comes
  const [, redraw] = useReducer((n) => n + 1, 0);

  const active = document.activeElement;
  if (!force.current && !redrawFocused.current && active?.tagName === "SELECT" && grid.current?.contains(active)) {
    if (shown.current !== state) deferred.current = true; // do not close a list the moderator has open
  } else {
    force.current = false;
    if (shown.current !== state) moving.current.clear();
    shown.current = state;
  }
  useFocusKept(grid);

  const move = (person, select) => {
    redrawFocused.current = true; // the list is closed now: the next snapshots may redraw it
    const room = select.value;
    const done = room
      ? t("{name} moved to {room}.", { name: person.name, room: roomById(shown.current, room)?.name })
      : t("{name} moved to no room.", { name: person.name });
    moving.current.set(person.id, room);
    ctl.command("move", { participant_id: person.id, room_id: room }, done).then((moved) => {
      if (moved) return;
      moving.current.delete(person.id); // back to where they are
      force.current = true;
      redraw(undefined);
    });
  };
  const opening = () => {
    redrawFocused.current = false; // opening it again
  };
  const focusOut = () => {
    if (!deferred.current) return;
    deferred.current = false;
    queueMicrotask(() => redraw(undefined));
  };

  const s = shown.current;
  const editable = ["planning", "open", "closing"].includes(s.phase);
  const list = (members, roomId) => html`
    <${PeopleList} people=${members} roomId=${roomId} state=${s} editable=${editable} moving=${moving.current}
                   move=${move} opening=${opening} />
  `;
  return html`
    <p class="muted" data-bo-pool="">${poolText(s)}</p>
    <p class="visually-hidden" id="bo-assign-hint">${T.dealsEveryoneTakingPartInto}</p>
    <div class="bo-room-grid" data-bo-rooms="" ref=${grid} onfocusout=${focusOut}>
      ${s.rooms.map((room) => html`<${RoomCard} key=${room.room_id} room=${room} state=${s} console=${ctl} list=${list} />`)}
      ${s.unassigned.length > 0 ? html`<${WaitingCard} key="" state=${s} list=${list} />` : null}
    </div>
  `;
}

function RoomCard({ room, state, console: ctl, list }) {
  const free = placesLeft(room);
  const seatsFree = nt("{count} seat free", "{count} seats free", free);
  return html`
    <article class=${`bo-room-card${room.help ? " is-help" : ""}`} data-room-card=${room.room_id} aria-labelledby=${`bo-card-${room.room_id}`}>
      <header class="bo-room-card-head">
        <h4 id=${`bo-card-${room.room_id}`}>${room.name}</h4>
        <span class="bo-count" title=${seatsFree}>${`${room.members.length}/${room.capacity}`}</span>
        ${room.help ? html`<span class="badge bo-help-badge">${T.asksForHelp}</span>` : null}
      </header>
      ${room.topic ? html`<p class="bo-room-topic">${room.topic}</p>` : null}
      ${list(room.members, room.room_id)}
      ${room.visitors.length > 0
        ? html`<p class="muted bo-visitors">${fill(T.visitingNames, { names: room.visitors.map((v) => v.name).join(", ") })}</p>`
        : null}
      <div class="bo-room-actions"><${VisitControls} room=${room} where="card" state=${state} console=${ctl} /></div>
    </article>
  `;
}

function WaitingCard({ state, list }) {
  return html`
    <article class="bo-room-card bo-waiting" data-room-card="" aria-labelledby="bo-card-waiting">
      <header class="bo-room-card-head">
        <h4 id="bo-card-waiting">${T.notInARoom}</h4>
        <span class="bo-count">${String(state.unassigned.length)}</span>
      </header>
      ${list(state.unassigned, "")}
    </article>
  `;
}

function PeopleList({ people, roomId, state, editable, moving, move, opening }) {
  if (!people.length) return html`<p class="muted bo-empty">${T.empty}</p>`;
  return html`
    <ul class="plain bo-people">
      ${people.map((person) => {
        const id = `bo-move-${person.id}`;
        const away = person.online === false;
        return html`
          <li key=${person.id} class=${`bo-person${away ? " is-offline" : ""}`} data-person=${person.id} data-online=${String(!away)}>
            <label for=${id}>
              <span class="bo-person-name">${person.name}</span>
              ${away ? html`<span class="badge bo-offline">${T.offline}</span>` : null}
              <span class="visually-hidden">${T.room}</span>
            </label>
            <select id=${id} data-move=${person.id} data-name=${person.name} data-focus-key=${`move:${person.id}`}
                    disabled=${!editable} value=${moving.get(person.id) ?? roomId}
                    onChange=${(event) => move(person, event.currentTarget)} onMouseDown=${opening} onKeyDown=${opening}>
              <option value="">${T.notInARoom}</option>
              ${state.rooms.map((room) => {
                const full = placesLeft(room) === 0 && room.room_id !== roomId;
                return html`<option key=${room.room_id} value=${room.room_id} disabled=${full}>${full ? fill(T.roomFull, { room: room.name }) : room.name}</option>`;
              })}
            </select>
          </li>
        `;
      })}
    </ul>
  `;
}
