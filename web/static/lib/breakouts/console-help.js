// The moderator console's help requests (from the rooms, named by the moderators' topic) and
// visits: join a room in a new tab, open it again, stop visiting.
import { html, useLayoutEffect, useRef } from "../html.js";
import { isRunning } from "./console-text.js";
import { fill, split, t } from "../i18n.js";

/** The words this module's templates show, read when rendering (outside the templates,
 *  where the catalog's extractor finds them). */
const T = {
  get openRoomNewTab() { return t("Open {room} (new tab)"); },
  get joinRoom() { return t("Join {room}"); },
  get helpRequests() { return t("Help requests"); },
  get nameInRoomAsksFor() { return t("{name} in {room} asks for help."); },
  get someone() { return t("Someone"); },
  get doneRoomHasBeenHelped() { return t("Done: {room} has been helped"); },
  get helpRequestClosed() { return t("Help request closed."); },
  get done() { return t("Done"); },
  get youAreVisitingRoom() { return t("You are visiting {room}."); },
  get youLeftTheRoom() { return t("You left the room."); },
  get stopVisiting() { return t("Stop visiting"); },
};

export function roomUrl(code, roomId) {
  return `/sessions/${code}/breakouts/${roomId}`;
}

/** The room the moderator ``me`` is visiting, if any. */
export function visitedRoom(state, me) {
  return state?.rooms.find((room) => room.visitors.some((v) => v.id === me)) ?? null;
}

/** The room's name for screen readers only: the card around the control shows it already, and
 *  the control's visible words stay part of its accessible name ("Join" in "Join Shade"). */
function hiddenName(room) {
  return html`<span class="visually-hidden" translate="no">${room.name}</span>`;
}

/** "Join" a room while the round runs, "Open" it (new tab) once the moderator visits it. */
export function VisitControls({ room, where, state, console: ctl }) {
  if (!isRunning(state)) return null;
  if (room.visitors.some((v) => v.id === ctl.me)) {
    return html`
      <a class="button-link secondary" href=${roomUrl(ctl.code, room.room_id)} target="_blank" rel="noopener"
         data-focus-key=${`open:${where}:${room.room_id}`}>${split(T.openRoomNewTab, { room: hiddenName(room) })}</a>
    `;
  }
  const key = `visit:${where}:${room.room_id}`;
  return html`
    <button type="button" class="secondary" data-bo-visit-room=${room.room_id} data-focus-key=${key}
            disabled=${ctl.busy.has(key)}
            onClick=${() => ctl.visit(room.room_id, key)}>${split(T.joinRoom, { room: hiddenName(room) })}</button>
  `;
}

export function HelpRequests({ state, asked, console: ctl }) {
  const asking = state.rooms.filter((room) => room.help);
  return html`
    <section class="bo-help" aria-labelledby="bo-help-heading" data-bo-help="" hidden=${asking.length === 0}>
      <h3 id="bo-help-heading">${T.helpRequests}</h3>
      <ul class="bo-help-list" data-bo-help-list="">
        ${asking.map((room) => {
          const key = `answer:${room.room_id}`;
          return html`
            <li key=${room.room_id} class="bo-help-item" data-help-room=${room.room_id}>
              <span>${split(fill(T.nameInRoomAsksFor, { room: room.name }), {
                name: html`<strong>${room.help.name ?? asked.get(room.room_id) ?? T.someone}</strong>`,
              })}</span>
              <span class="bo-help-actions">
                <${VisitControls} room=${room} where="help" state=${state} console=${ctl} />
                <button type="button" class="secondary" data-bo-answer=${room.room_id} data-focus-key=${key}
                        aria-label=${fill(T.doneRoomHasBeenHelped, { room: room.name })} disabled=${ctl.busy.has(key)}
                        onClick=${() => ctl.command("answer-help", { room_id: room.room_id }, T.helpRequestClosed, key)}>${T.done}</button>
              </span>
            </li>
          `;
        })}
      </ul>
    </section>
  `;
}

/** Where the moderator is visiting; after "Join" the link to the room takes focus. */
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
        <p>${split(T.youAreVisitingRoom, { room: html`<strong>${room.name}</strong>` })}</p>
        <a ref=${link} class="button-link" href=${roomUrl(ctl.code, room.room_id)} target="_blank" rel="noopener"
           data-focus-key="visit-link" data-bo-room-link=${room.room_id}>${fill(T.openRoomNewTab, { room: room.name })}</a>
        <button type="button" class="secondary" data-bo-leave-visit="" data-focus-key="leave-visit"
                disabled=${ctl.busy.has("leave-visit")}
                onClick=${() => ctl.command("visit", { room_id: "" }, T.youLeftTheRoom, "leave-visit")}>${T.stopVisiting}</button>
      `}
    </div>
  `;
}
