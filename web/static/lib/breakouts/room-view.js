// The break-out room page as Preact components: the header with the round's clock, the
// banners, the call's tiles and controls, who is here, the chat (room-chat.js) and the leave
// dialog. They observe the room's state (room-session.js) and its call (room-call.js) and
// render them; every text from a participant is rendered as text, never as HTML.
import { clock } from "../dom.js";
import { Fragment, html, useLayoutEffect, useReducer, useRef, useState } from "../html.js";
import { CONNECTION } from "./common.js";
import { RoomChat } from "./room-chat.js";
import { playVideo } from "./room-call.js";
import { gridCount, initials, personNotes, tileLabels, tileOrder, tileStatus } from "./room-logic.js";

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
      <span class="qa-connection" data-breakout-connection="" data-state=${connection}>${CONNECTION[connection]}</span>
    </div>
  `;
}

/** The moderators' message (as common.js broadcastBanner() builds it for the other views). */
function BroadcastBanner({ banner, onDismiss }) {
  const at = banner.at ? new Date(banner.at) : null;
  return html`
    <div class="bo-banner bo-banner-broadcast" data-broadcast-at=${banner.at ?? ""} data-banner="broadcast">
      <p class="bo-banner-title"><strong>Message from the moderators</strong>${at ? " · " : null}${at
        ? html`<time datetime=${banner.at}>${clock.format(at)}</time>`
        : null}</p>
      <p class="bo-banner-text">${banner.text}</p>
      <button
        type="button"
        class="secondary banner-dismiss"
        aria-label="Dismiss the message from the moderators"
        onClick=${onDismiss}
      >Dismiss</button>
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
        aria-label=${local ? "Your camera" : `Video of ${label.name}`}
        ref=${video}
        onLoadedData=${() => setHasVideo(true)}
        onEmptied=${() => setHasVideo(false)}
      ></video>
      <span class="tile-avatar" aria-hidden="true">${initials(label.name)}</span>
      <p class="tile-caption">
        <span class="tile-name">${label.name}${local ? " (you)" : ""}${label.visitor ? " · moderator" : ""}</span>
        <span class="tile-badges">
          ${muted ? html`<span class="tile-badge badge-muted">Muted</span>` : null}
          ${cameraOff ? html`<span class="tile-badge">Camera off</span>` : null}
          ${speaking ? html`<span class="visually-hidden">Speaking</span>` : null}
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
    <ul class="call-grid" data-breakout-grid="" data-count=${String(gridCount(order.length))} aria-label="People on the call">
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
    <p class="call-alone muted" data-breakout-alone="" hidden=${!alone}>Nobody else is here yet: the others appear as they arrive.</p>
  `;
}

function CallControls({ session, call, onLeave }) {
  const help = session.help; // null until the first snapshot
  return html`
    <div class="call-controls" role="toolbar" aria-label="Call controls" data-breakout-controls="">
      <button
        type="button"
        class="call-button"
        data-breakout-mute=""
        data-state=${call.muted ? "off" : "on"}
        disabled=${!call.canMute}
        onClick=${() => call.toggleMute()}
      >${call.muted ? "Unmute" : "Mute"}</button>
      <button
        type="button"
        class="call-button"
        data-breakout-camera=""
        data-state=${call.cameraOff ? "off" : "on"}
        disabled=${!call.canStopCamera}
        onClick=${() => call.toggleCamera()}
      >${call.cameraOff ? "Start video" : "Stop video"}</button>
      <button type="button" class="call-button" data-breakout-sound="" hidden=${!call.soundBlocked} onClick=${() => call.turnOnSound()}>Turn on sound</button>
      <button type="button" class="call-button" data-breakout-takeover="" hidden=${!call.dormant} onClick=${() => call.takeOver()}>Use this tab</button>
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
          >${help?.pending ? "Help is on the way" : "Ask for help"}</button>`}
      <button type="button" class="call-button call-leave" data-breakout-leave="" onClick=${onLeave}>Leave room</button>
    </div>
  `;
}

// -- who is here --------------------------------------------------------------------------

/** As the server rendered the list, until the room's state arrives. */
function PagePerson({ person, me }) {
  const mine = person.id === me;
  if (person.visitor) {
    return html`<li data-person=${person.id}>${person.name} <span class="muted">(moderator${mine ? ", you" : ""})</span></li>`;
  }
  return html`<li data-person=${person.id}>${person.name}${mine ? html` <span class="muted">(you)</span>` : null}</li>`;
}

function People({ session, call }) {
  const me = session.me;
  const live = session.peopleLive;
  const people = live ? session.people() : session.page.people;
  return html`
    <section class="room-people" aria-labelledby="people-heading">
      <h2 id="people-heading">In this room <span class="room-people-count" data-breakout-people-count="">${people.length}</span></h2>
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
        <h2 id="leave-heading">Leave the room?</h2>
        ${visiting
          ? html`<p>You stop visiting ${roomName} and go back to the session page. You can visit any room again from the moderator console.</p>`
          : html`<p>You go back to the session page and stop taking part in the break-out rooms. You can take part again from there.</p>`}
        <div class="room-dialog-actions">
          <button type="submit" value="cancel" class="secondary">Stay</button>
          <button type="submit" value="leave" class="call-leave">Leave room</button>
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
    <p class="breadcrumbs"><a href="/">Programme</a> › <a href=${`/sessions/${page.code}`}>${page.sessionTitle}</a> › Break-out rooms › ${page.roomName}</p>

    <header class="room-header">
      <div class="room-title">
        <p class="room-kicker">Break-out room${page.visiting ? " · you are visiting as a moderator" : ""}</p>
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
        <h2 id="call-heading" class="visually-hidden">Video call</h2>
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
