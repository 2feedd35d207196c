// The moderator console's break-outs panel: plan rooms, place people (automatically, by hand,
// or let them choose), open the rooms for a while, extend, message every room, answer help
// requests, visit a room and close with a countdown. Live over the session's break-outs
// topic, with help requests (and who asked) from the moderators' topic.
// Every text from a participant is a template value: text, never HTML.
import { ApiError, post } from "../api.js";
import { Fragment, html, useEffect, useMemo, useRef, useState } from "../html.js";
import { pageRealtime } from "../realtime.js";
import { ServerClock, loadBreakouts, roomById } from "./common.js";
import { ConsoleClock } from "./console-clock.js";
import { HelpRequests, VisitBox, roomUrl } from "./console-help.js";
import { PlanForm } from "./console-plan.js";
import { RoomsSection } from "./console-rooms.js";
import { Broadcast, RunRound } from "./console-run.js";
import { phaseAnnouncement, phaseName, summary } from "./console-text.js";
import { t } from "../i18n.js";

/** The words this module's templates show, read when rendering (outside the templates,
 *  where the catalog's extractor finds them). */
const T = {
  get breakOutRooms() { return t("Break-out rooms"); },
  get notPlanned() { return t("Not planned"); },
  get loading() { return t("Loading"); },
  get loadingTheRooms() { return t("Loading the rooms…"); },
};

/** A live region's text; saying the same words again replaces the text, so they are read again. */
function Said({ message }) {
  return message ? html`<${Fragment} key=${message.n}>${message.text}<//>` : null;
}

/** The panel in ``root`` (its data-session-code and data-moderator-id say whose it is). */
export function BreakoutsConsole({ root }) {
  const code = root.dataset.sessionCode;
  const me = root.dataset.moderatorId;
  const [state, setState] = useState(null);
  const [asked, setAsked] = useState(() => new Map()); // room id -> name of who asked for help
  const [busy, setBusy] = useState(() => new Set()); // the controls whose request is on its way
  const [feedback, setFeedback] = useState({ status: null, error: null, announce: null });
  const serverClock = useMemo(() => new ServerClock(), []);
  const current = useRef(null);
  const focusVisit = useRef(null); // the room joined in one click: its link takes focus
  const said = useRef(0);

  const actions = useMemo(() => {
    const words = (text) => ({ text, n: ++said.current });
    const say = (text) => setFeedback((f) => ({ ...f, status: words(text), error: null }));
    const fail = (text) => setFeedback((f) => ({ ...f, status: null, error: words(text) }));
    const announce = (text) => setFeedback((f) => ({ ...f, announce: words(text) }));
    const setBusyKey = (key, on) => setBusy((keys) => {
      const next = new Set(keys);
      if (on) next.add(key);
      else next.delete(key);
      return next;
    });
    const command = async (action, body, done, key) => {
      if (key) setBusyKey(key, true);
      try {
        await post(`/api/sessions/${code}/breakouts/${action}`, body);
        if (done) say(done);
        return true;
      } catch (error) {
        fail(error instanceof ApiError ? error.message : t("That did not work. Try again."));
        return false;
      } finally {
        if (key) setBusyKey(key, false);
      }
    };
    const visit = async (roomId, key) => {
      const room = roomById(current.current, roomId);
      focusVisit.current = roomId;
      // One click joins: the tab opens now, inside the click (so no popup blocker stops
      // it), and goes to the room once the visit is recorded.
      const tab = window.open("", "_blank");
      if (await command("visit", { room_id: roomId }, room ? t("You are visiting {room}; it opened in a new tab.", { room: room.name }) : t("You are visiting the room; it opened in a new tab."), key)) {
        const url = roomUrl(code, roomId);
        if (tab) tab.location.href = url;
        else location.assign(url);
      } else {
        focusVisit.current = null;
        tab?.close();
      }
    };
    const apply = (next) => {
      const previous = current.current;
      current.current = next;
      if (previous && previous.phase !== next.phase) {
        // The status said what was done; the phase now says more.
        setFeedback((f) => ({ ...f, status: null, announce: words(phaseAnnouncement(next.phase)) }));
      }
      setAsked((names) => {
        const helped = next.rooms.filter((room) => !room.help && names.has(room.room_id));
        if (!helped.length) return names;
        const left = new Map(names);
        for (const room of helped) left.delete(room.room_id);
        return left;
      });
      setState(next);
    };
    const helpAsked = (change) => {
      setAsked((names) => new Map(names).set(change.room_id, change.name));
      const room = roomById(current.current, change.room_id);
      announce(room
        ? t("{name} in {room} asks for help.", { name: change.name, room: room.name })
        : t("{name} in a room asks for help.", { name: change.name }));
    };
    return { code, me, base: `/api/sessions/${code}/breakouts`, focusVisit, say, fail, command, visit, apply, helpAsked };
  }, [code, me]);

  useEffect(() => {
    const realtime = pageRealtime();
    realtime.subscribe(`session:${code}:breakouts`, {
      snapshot: (snapshot) => actions.apply(snapshot),
      event: (changes) => {
        for (const change of changes) if (change.type === "breakouts") actions.apply(change.breakouts);
      },
      error: (error) => actions.fail(error.message),
    });
    realtime.subscribe(`session:${code}:moderation`, {
      snapshot: () => {},
      event: (changes) => {
        for (const change of changes) if (change.type === "help") actions.helpAsked(change);
      },
    });
    loadBreakouts(code, serverClock).catch(() => {}); // the server's clock
  }, [code]);

  useEffect(() => {
    if (state) root.dataset.phase = state.phase;
  }, [state?.phase]);

  const ctl = { ...actions, busy };
  const planning = state?.phase === "planning" || state?.phase === "closed";
  const shown = state?.planned && state.phase !== "closed";
  return html`
    <header class="bo-console-head">
      <div>
        <h2 id="bo-heading">${T.breakOutRooms} <span class=${`badge bo-phase${state ? ` bo-phase-${state.planned ? state.phase : "none"}` : ""}`}
                                                  data-bo-phase="">${state ? (state.planned ? phaseName(state.phase) : T.notPlanned) : T.loading}</span></h2>
        <p class="muted bo-summary" data-bo-summary="">${state ? summary(state) : T.loadingTheRooms}</p>
      </div>
      <${ConsoleClock} state=${state} serverClock=${serverClock} />
    </header>
    <p class="qa-status" role="status" data-bo-status=""><${Said} message=${feedback.status} /></p>
    <p class="qa-error" role="alert" data-bo-error=""><${Said} message=${feedback.error} /></p>
    <p class="visually-hidden" aria-live="polite" data-bo-announce=""><${Said} message=${feedback.announce} /></p>
    ${state && html`
      <${HelpRequests} state=${state} asked=${asked} console=${ctl} />
      <${VisitBox} state=${state} console=${ctl} />
      <div class="bo-console-layout">
        <div class="bo-main">
          <${PlanForm} state=${state} hidden=${!planning} console=${ctl} />
          <${RoomsSection} state=${state} hidden=${!shown} console=${ctl} />
        </div>
        <aside class="bo-side">
          <${RunRound} state=${state} console=${ctl} />
          <${Broadcast} state=${state} console=${ctl} />
        </aside>
      </div>
    `}
  `;
}

