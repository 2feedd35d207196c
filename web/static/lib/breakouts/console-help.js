// The moderator console's help requests (from the rooms, named by the moderators' topic) and
// visits: join a room in a new tab, open it again, stop visiting.
import { html, useLayoutEffect, useRef } from "../html.js";
import { isRunning } from "./console-text.js";

export function roomUrl(code, roomId) {
  return `/sessions/${code}/breakouts/${roomId}`;
}

/** The room the moderator ``me`` is visiting, if any. */
export function visitedRoom(state, me) {
  return state?.rooms.find((room) => room.visitors.some((v) => v.id === me)) ?? null;
}

/** "Join room" for a room while the round runs, "Open room" once the moderator visits it. */
export function VisitControls({ room, where, state, console: ctl }) {
  if (!isRunning(state)) return null;
  if (room.visitors.some((v) => v.id === ctl.me)) {
    return html`
      <a class="button-link secondary" href=${roomUrl(ctl.code, room.room_id)} target="_blank" rel="noopener"
         data-focus-key=${`open:${where}:${room.room_id}`} aria-label=${`Open ${room.name} (new tab)`}>Open room</a>
    `;
  }
  const key = `visit:${where}:${room.room_id}`;
  return html`
    <button type="button" class="secondary" data-bo-visit-room=${room.room_id} data-focus-key=${key}
            aria-label=${`Join ${room.name}`} disabled=${ctl.busy.has(key)}
            onClick=${() => ctl.visit(room.room_id, key)}>Join room</button>
  `;
}

export function HelpRequests({ state, asked, console: ctl }) {
  const asking = state.rooms.filter((room) => room.help);
  return html`
    <section class="bo-help" aria-labelledby="bo-help-heading" data-bo-help="" hidden=${asking.length === 0}>
      <h3 id="bo-help-heading">Help requests</h3>
      <ul class="bo-help-list" data-bo-help-list="">
        ${asking.map((room) => {
          const key = `answer:${room.room_id}`;
          return html`
            <li key=${room.room_id} class="bo-help-item" data-help-room=${room.room_id}>
              <span><strong>${room.help.name ?? asked.get(room.room_id) ?? "Someone"}</strong>${` in ${room.name} asks for help.`}</span>
              <span class="bo-help-actions">
                <${VisitControls} room=${room} where="help" state=${state} console=${ctl} />
                <button type="button" class="secondary" data-bo-answer=${room.room_id} data-focus-key=${key}
                        aria-label=${`Done: ${room.name} has been helped`} disabled=${ctl.busy.has(key)}
                        onClick=${() => ctl.command("answer-help", { room_id: room.room_id }, "Help request closed.", key)}>Done</button>
              </span>
            </li>
          `;
        })}
      </ul>
    </section>
  `;
}

/** Where the moderator is visiting; after "Join room" the link to the room takes focus. */
export function VisitBox({ state, console: ctl }) {
  const room = visitedRoom(state, ctl.me);
  const link = useRef(null);
  useLayoutEffect(() => {
    if (room && ctl.focusVisit.current === room.room_id) {
      ctl.focusVisit.current = null;
      link.current?.focus();
    }
  });
  return html`
    <div class="bo-visit" data-bo-visit="" hidden=${!room}>
      ${room && html`
        <p>You are visiting <strong>${room.name}</strong>.</p>
        <a ref=${link} class="button-link" href=${roomUrl(ctl.code, room.room_id)} target="_blank" rel="noopener"
           data-focus-key="visit-link" data-bo-room-link=${room.room_id}>${`Open ${room.name} (new tab)`}</a>
        <button type="button" class="secondary" data-bo-leave-visit="" data-focus-key="leave-visit"
                disabled=${ctl.busy.has("leave-visit")}
                onClick=${() => ctl.command("visit", { room_id: "" }, "You left the room.", "leave-visit")}>Stop visiting</button>
      `}
    </div>
  `;
}
