// The break-out room page as Preact components: the header with the round's clock, the
// banners, the call's tiles and controls, who is here, the chat (room-chat.js) and the leave
// dialog. They observe the room's state (room-session.js) and its call (room-call.js) and
// render them; every text from a participant is rendered as text, never as HTML.
import { clock } from "../dom.js";
import { Fragment, html, useLayoutEffect, useReducer, useRef, useState } from "../html.js";
import { connectionText } from "./common.js";
import { fill, t } from "../i18n.js";
import { RoomChat } from "./room-chat.js";
import { playVideo } from "./room-call.js";
import { gridCount, initials, personNotes, tileLabels, tileOrder, tileStatus } from "./room-logic.js";

/** The words this module's templates show, read when rendering (outside the templates,
 *  where the catalog's extractor finds them). */
const T = {
  get messageFromTheModerators() { return t("Message from the moderators"); },
  get dismissTheMessageFromThe() { return t("Dismiss the message from the moderators"); },
  get dismiss() { return t("Dismiss"); },
  get yourCamera() { return t("Your camera"); },
  get videoOfName() { return t("Video of {name}"); },
  get muted() { return t("Muted"); },
  get cameraOff() { return t("Camera off"); },
  get speaking() { return t("Speaking"); },
  get peopleOnTheCall() { return t("People on the call"); },
  get nobodyElseIsHereYet() { return t("Nobody else is here yet: the others appear as they arrive."); },
  get callControls() { return t("Call controls"); },
  get unmute() { return t("Unmute"); },
  get mute() { return t("Mute"); },
  get startVideo() { return t("Start video"); },
  get stopVideo() { return t("Stop video"); },
  get turnOnSound() { return t("Turn on sound"); },
  get useThisTab() { return t("Use this tab"); },
  get helpIsOnTheWay() { return t("Help is on the way"); },
  get askForHelp() { return t("Ask for help"); },
  get leaveRoom() { return t("Leave room"); },
  get moderatorYou() { return t("(moderator, you)"); },
  get moderator() { return t("(moderator)"); },
  get you() { return t("(you)"); },
  get inThisRoom() { return t("In this room"); },
  get leaveTheRoom() { return t("Leave the room?"); },
  get youStopVisitingRoomAnd() { return t("You stop visiting {room} and go back to the session page. You can visit any room again from the moderator console."); },
  get youGoBackToThe() { return t("You go back to the session page and stop taking part in the break-out rooms. You can take part again from there."); },
  get stay() { return t("Stay"); },
  get programme() { return t("Programme"); },
  get breakOutRooms() { return t("Break-out rooms"); },
  get breakOutRoomYouAre() { return t("Break-out room · you are visiting as a moderator"); },
  get breakOutRoom() { return t("Break-out room"); },
  get videoCall() { return t("Video call"); },
};

/** Render the calling component again whenever ``observable`` changes.
 *  @param {import("./room-observable.js").Observable} observable */
export function useObserved(observable) {
  const [, update] = useReducer((count) => count + 1, 0);
  // A layout effect: subscribed as soon as the tree is in the page, before anything starts.
  useLayoutEffect(() => observable.subscribe(() => update(null)), [observable]);
}

// -- the round's clock and the banners ----------------------------------------------------

function RoundClock({ session, connection }) {
  useObserved(session.clock);
  const { label, text, state } = session.clockView;
  return html`
    <div class="room-clock" data-breakout-clock="" data-state=${state}>
      <span class="room-clock-label" id="room-clock-label" data-breakout-clock-label="">${label}</span>
      <span class="room-countdown" role="timer" aria-labelledby="room-clock-label" data-breakout-countdown="">${text}</span>
      <span class="qa-connection" data-breakout-connection="" data-state=${connection}>${connectionText(connection)}</span>
    </div>
  `;
}

/** The moderators' message (as common.js broadcastBanner() builds it for the other views). */
function BroadcastBanner({ banner, onDismiss }) {
  const at = banner.at ? new Date(banner.at) : null;
  return html`
    <div class="bo-banner bo-banner-broadcast" data-broadcast-at=${banner.at ?? ""} data-banner="broadcast">
      <p class="bo-banner-title"><strong>${T.messageFromTheModerators}</strong>${at ? " · " : null}${at
        ? html`<time datetime=${banner.at}>${clock.format(at)}</time>`
        : null}</p>
      <p class="bo-banner-text">${banner.text}</p>
      <button
        type="button"
        class="secondary banner-dismiss"
        aria-label=${T.dismissTheMessageFromThe}
        onClick=${onDismiss}
      >${T.dismiss}</button>
    </div>
  `;
}

function Banners({ session }) {
  return html`
    <div class="room-banners" aria-live="polite" data-breakout-banners="">
      ${session.banners.map((banner) => banner.kind === "broadcast"
        ? html`<${BroadcastBanner}
            key=${banner.kind}
            banner=${banner}
            onDismiss=${() => session.dismissBroadcast(banner.at)}
          />`
        : html`<div key=${banner.kind} class=${`bo-banner bo-banner-${banner.kind}`} data-banner=${banner.kind}>
            <p>${banner.text}</p>
          </div>`)}
    </div>
  `;
}

// -- the call -----------------------------------------------------------------------------

/** One person's square in the grid: their video, or their initials when there is none. The
 *  <video> stays the same element while the tile is shown, and keeps its stream. */
/** A tile's caption: "Ann (you) · moderator". */
function tileName(name, local, visitor) {
  if (local && visitor) return t("{name} (you) · moderator", { name });
  if (local) return t("{name} (you)", { name });
  return visitor ? t("{name} · moderator", { name }) : name;
}

function Tile({ call, id, local, label, show, stream, tracks }) {
  const video = useRef(/** @type {HTMLVideoElement | null} */ (null));
  const [hasVideo, setHasVideo] = useState(false);
  useLayoutEffect(() => {
    if (local) video.current.muted = true; // never play your own microphone back to you
    return call.registerVideo(id, video.current);
  }, []);
  useLayoutEffect(() => {
    const element = video.current;
    if (!stream) {
      if (element.srcObject) element.srcObject = null;
      setHasVideo(false);
      return;
    }
    if (element.srcObject !== stream) element.srcObject = stream;
    playVideo(element, local ? undefined : () => call.offerSound());
  }, [stream, tracks]);

  const { muted, cameraOff, speaking, connection } = show;
  const classes = ["tile"];
  if (local) classes.push("is-local");
  if (hasVideo) classes.push("has-video");
  if (speaking) classes.push("is-speaking");
  if (cameraOff) classes.push("is-camera-off");
  return html`
    <li class=${classes.join(" ")} data-tile=${id} data-connection=${connection}>
      <video
        playsinline=""
        autoplay=${true}
        aria-label=${local ? T.yourCamera : fill(T.videoOfName, { name: label.name })}
        ref=${video}
        onLoadedData=${() => setHasVideo(true)}
        onEmptied=${() => setHasVideo(false)}
      ></video>
      <span class="tile-avatar" aria-hidden="true">${initials(label.name)}</span>
      <p class="tile-caption">
        <span class="tile-name">${tileName(label.name, local, label.visitor)}</span>
        <span class="tile-badges">
          ${muted ? html`<span class="tile-badge badge-muted">${T.muted}</span>` : null}
          ${cameraOff ? html`<span class="tile-badge">${T.cameraOff}</span>` : null}
          ${speaking ? html`<span class="visually-hidden">${T.speaking}</span>` : null}
        </span>
      </p>
      <span class="tile-status">${tileStatus(connection, local) || null}</span>
    </li>
  `;
}

function CallGrid({ session, call }) {
  const { me, myName, visiting } = session.page;
  // Each tile keeps its caption until its person shows up under another name.
  const labels = useRef(new Map([[me, { name: myName, visitor: visiting }]]));
  const people = session.people();
  const order = tileOrder(me, people, call.call.members);
  labels.current = tileLabels(order, people, labels.current, me, myName);
  const alone = order.length <= 1 && Boolean(session.state || session.roomView);
  return html`
    <ul class="call-grid" data-breakout-grid="" data-count=${String(gridCount(order.length))} aria-label=${T.peopleOnTheCall}>
      ${order.map((id) => {
        const { stream, tracks } = call.streamOf(id);
        return html`<${Tile}
          key=${id}
          call=${call}
          id=${id}
          local=${id === me}
          label=${labels.current.get(id)}
          show=${call.tileOf(id)}
          stream=${stream}
          tracks=${tracks}
        />`;
      })}
    </ul>
    <p class="call-alone muted" data-breakout-alone="" hidden=${!alone}>${T.nobodyElseIsHereYet}</p>
  `;
}

function CallControls({ session, call, onLeave }) {
  const help = session.help; // null until the first snapshot
  return html`
    <div class="call-controls" role="toolbar" aria-label=${T.callControls} data-breakout-controls="">
      <button
        type="button"
        class="call-button"
        data-breakout-mute=""
        data-state=${call.muted ? "off" : "on"}
        disabled=${!call.canMute}
        onClick=${() => call.toggleMute()}
      >${call.muted ? T.unmute : T.mute}</button>
      <button
        type="button"
        class="call-button"
        data-breakout-camera=""
        data-state=${call.cameraOff ? "off" : "on"}
        disabled=${!call.canStopCamera}
        onClick=${() => call.toggleCamera()}
      >${call.cameraOff ? T.startVideo : T.stopVideo}</button>
      <button type="button" class="call-button" data-breakout-sound="" hidden=${!call.soundBlocked} onClick=${() => call.turnOnSound()}>${T.turnOnSound}</button>
      <button type="button" class="call-button" data-breakout-takeover="" hidden=${!call.dormant} onClick=${() => call.takeOver()}>${T.useThisTab}</button>
      ${session.page.visiting
        ? null
        : html`<button
            type="button"
            class="call-button"
            data-breakout-help=""
            data-pending=${help ? String(help.pending) : undefined}
            hidden=${Boolean(help?.hidden)}
            disabled=${session.helpBusy || Boolean(help?.disabled)}
            onClick=${() => session.askHelp()}
          >${help?.pending ? T.helpIsOnTheWay : T.askForHelp}</button>`}
      <button type="button" class="call-button call-leave" data-breakout-leave="" onClick=${onLeave}>${T.leaveRoom}</button>
    </div>
  `;
}

// -- who is here --------------------------------------------------------------------------

/** As the server rendered the list, until the room's state arrives. */
function PagePerson({ person, me }) {
  const mine = person.id === me;
  if (person.visitor) {
    return html`<li data-person=${person.id}>${person.name} <span class="muted">${mine ? T.moderatorYou : T.moderator}</span></li>`;
  }
  return html`<li data-person=${person.id}>${person.name}${mine ? html` <span class="muted">${T.you}</span>` : null}</li>`;
}

function People({ session, call }) {
  const me = session.me;
  const live = session.peopleLive;
  const people = live ? session.people() : session.page.people;
  return html`
    <section class="room-people" aria-labelledby="people-heading">
      <h2 id="people-heading">${T.inThisRoom} <span class="room-people-count" data-breakout-people-count="">${people.length}</span></h2>
      <ul class="plain room-people-list" data-breakout-people="">
        ${people.map((person) => {
          if (!live) return html`<${PagePerson} key=${person.id} person=${person} me=${me} />`;
          const notes = personNotes(person, call.call, me);
          return html`<li key=${person.id} data-person=${person.id} class=${call.call.speaker === person.id ? "is-speaking" : null}>
            <span>${person.name}</span>${notes.length ? html`<span class="muted">${` (${notes.join(", ")})`}</span>` : null}
          </li>`;
        })}
      </ul>
    </section>
  `;
}

// -- leaving ------------------------------------------------------------------------------

function LeaveDialog({ session, dialog }) {
  const { visiting, roomName } = session.page;
  function onClose() {
    const element = dialog.current;
    if (element.returnValue === "leave") session.leaveRoom();
    element.returnValue = "";
  }
  return html`
    <dialog class="room-dialog" aria-labelledby="leave-heading" data-breakout-leave-dialog="" ref=${dialog} onClose=${onClose}>
      <form method="dialog">
        <h2 id="leave-heading">${T.leaveTheRoom}</h2>
        ${visiting
          ? html`<p>${fill(T.youStopVisitingRoomAnd, { room: roomName })}</p>`
          : html`<p>${T.youGoBackToThe}</p>`}
        <div class="room-dialog-actions">
          <button type="submit" value="cancel" class="secondary">${T.stay}</button>
          <button type="submit" value="leave" class="call-leave">${T.leaveRoom}</button>
        </div>
      </form>
    </dialog>
  `;
}

// -- the page -----------------------------------------------------------------------------

/**
 * The whole room, rendered into ``root`` (the [data-breakout-room] element, whose data-phase
 * follows the round).
 * @param {{session: import("./room-session.js").RoomSession,
 *          call: import("./room-call.js").RoomCall, root: HTMLElement}} props
 */
export function RoomPage({ session, call, root }) {
  useObserved(session);
  useObserved(call);
  const dialog = useRef(/** @type {HTMLDialogElement | null} */ (null));
  useLayoutEffect(() => {
    if (root.dataset.phase !== session.phase) root.dataset.phase = session.phase;
  });
  const page = session.page;
  return html`
    <p class="breadcrumbs"><a href="/">${T.programme}</a> › <a href=${`/sessions/${page.code}`}>${page.sessionTitle}</a> › ${T.breakOutRooms} › ${page.roomName}</p>

    <header class="room-header">
      <div class="room-title">
        <p class="room-kicker">${page.visiting ? T.breakOutRoomYouAre : T.breakOutRoom}</p>
        <h1>${page.roomName}</h1>
        ${page.roomTopic ? html`<p class="subtitle">${page.roomTopic}</p>` : null}
      </div>
      <${RoundClock} session=${session} connection=${session.connection} />
    </header>

    <${Banners} session=${session} />
    <p class="qa-error" role="alert" data-breakout-error="">
      ${session.error ? html`<${Fragment} key=${session.errors}>${session.error}<//>` : null}
    </p>

    <div class="room-layout">
      <section class="room-call" aria-labelledby="call-heading">
        <h2 id="call-heading" class="visually-hidden">${T.videoCall}</h2>
        <${CallGrid} session=${session} call=${call} />
        <${CallControls} session=${session} call=${call} onLeave=${() => dialog.current.showModal()} />
        <p class="room-media-note" role="status" data-breakout-media-status="">${call.status || null}</p>
      </section>

      <aside class="room-side">
        <${People} session=${session} call=${call} />
        <${RoomChat} session=${session} />
      </aside>
    </div>

    <${LeaveDialog} session=${session} dialog=${dialog} />
  `;
}
