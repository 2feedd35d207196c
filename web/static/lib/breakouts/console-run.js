// The moderator console's side: run the round (open for a while, extend, close with a
// countdown) and message every room (with the last messages sent).
import { html, useRef, useState } from "../html.js";
import { clock } from "../dom.js";
import { nt, t } from "../i18n.js";
import { spokenDuration } from "./common.js";
import { isRunning, recentBroadcasts } from "./console-text.js";

/** The words this module's templates show, read when rendering (outside the templates,
 *  where the catalog's extractor finds them). */
const T = {
  get runTheRound() { return t("Run the round"); },
  get durationInMinutes() { return t("Duration in minutes"); },
  get openTheRooms() { return t("Open the rooms"); },
  get extend() { return t("Extend"); },
  get countdownBeforeClosingInSeconds() { return t("Countdown before closing, in seconds"); },
  get closeTheRooms() { return t("Close the rooms"); },
  get everyoneSeesTheCountdownThen() { return t("Everyone sees the countdown, then returns to the main session. 0 closes at once."); },
  get messageToAllRooms() { return t("Message to all rooms"); },
  get message() { return t("Message"); },
  get shownAtOnceInEvery() { return t("Shown at once in every room."); },
  get sendToAllRooms() { return t("Send to all rooms"); },
  get messagesSent() { return t("Messages sent"); },
};

export function RunRound({ state, console: ctl }) {
  const [minutes, setMinutes] = useState("15");
  const [grace, setGrace] = useState("60");

  const open = (event) => {
    event.preventDefault();
    const value = Number(minutes);
    if (!Number.isInteger(value) || value < 1 || value > 240) {
      ctl.fail(t("Open the rooms for 1 to 240 minutes."));
      return;
    }
    const waiting = state.unassigned.length;
    const done = waiting
      ? nt(
        "Rooms open for {minutes}. {count} not in a room yet: place them, or use Rebalance.",
        "Rooms open for {minutes}. {count} not in a room yet: place them, or use Rebalance.",
        waiting,
        { minutes: spokenDuration(value * 60000) },
      )
      : nt("Rooms open for {count} minute.", "Rooms open for {count} minutes.", value);
    ctl.command("open", { minutes: value }, done, "open");
  };
  const close = (event) => {
    event.preventDefault();
    const seconds = Number(grace);
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 300) {
      ctl.fail(t("The countdown before closing is 0 to 300 seconds."));
      return;
    }
    ctl.command("close", { grace_seconds: seconds }, seconds ? nt("Rooms close in {count} second.", "Rooms close in {count} seconds.", seconds) : t("Rooms closed."), "close");
  };
  const extend = (by) => {
    const done = nt("Extended by {count} minute.", "Extended by {count} minutes.", by);
    const label = nt("+{count} minute", "+{count} minutes", by);
    return html`
      <button type="button" class="secondary" data-bo-extend=${String(by)} data-focus-key=${`extend-${by}`}
              disabled=${ctl.busy.has(`extend-${by}`)}
              onClick=${() => ctl.command("extend", { minutes: by }, done, `extend-${by}`)}>${label}</button>
    `;
  };

  return html`
    <section class="bo-run" aria-labelledby="bo-run-heading" data-bo-run="" hidden=${!state.planned || state.phase === "closed"}>
      <h3 id="bo-run-heading">${T.runTheRound}</h3>
      <form class="bo-inline-form" data-bo-open-form="" novalidate="" hidden=${state.phase !== "planning"} onSubmit=${open}>
        <label for="bo-minutes">${T.durationInMinutes}</label>
        <div class="bo-field-row">
          <input id="bo-minutes" name="minutes" type="number" min="1" max="240" step="1" inputmode="numeric" required
                 value=${minutes} onInput=${(event) => setMinutes(event.currentTarget.value)} />
          <button type="submit" disabled=${ctl.busy.has("open")}>${T.openTheRooms}</button>
        </div>
      </form>
      <div class="bo-running" data-bo-running="" hidden=${!isRunning(state)}>
        <p class="bo-field-row" role="group" aria-labelledby="bo-extend-label">
          <span id="bo-extend-label">${T.extend}</span>
          ${extend(5)}
          ${extend(10)}
        </p>
        <form class="bo-inline-form" data-bo-close-form="" novalidate="" hidden=${state.phase !== "open"} onSubmit=${close}>
          <label for="bo-grace">${T.countdownBeforeClosingInSeconds}</label>
          <div class="bo-field-row">
            <input id="bo-grace" name="grace_seconds" type="number" min="0" max="300" step="1" inputmode="numeric" required
                   aria-describedby="bo-grace-hint" value=${grace} onInput=${(event) => setGrace(event.currentTarget.value)} />
            <button type="submit" class="bo-danger" disabled=${ctl.busy.has("close")}>${T.closeTheRooms}</button>
          </div>
          <p class="muted bo-hint" id="bo-grace-hint">${T.everyoneSeesTheCountdownThen}</p>
        </form>
      </div>
    </section>
  `;
}

export function Broadcast({ state, console: ctl }) {
  const [text, setText] = useState("");
  const field = useRef(null);
  const send = async (event) => {
    event.preventDefault();
    const message = text.trim();
    if (!message) {
      ctl.fail(t("Write the message first."));
      field.current?.focus();
      return;
    }
    if (await ctl.command("broadcast", { text: message }, t("Message sent to all rooms."), "broadcast")) setText("");
  };
  return html`
    <section class="bo-broadcast" aria-labelledby="bo-broadcast-heading" data-bo-broadcast="" hidden=${!isRunning(state)}>
      <h3 id="bo-broadcast-heading">${T.messageToAllRooms}</h3>
      <form class="stack" data-bo-broadcast-form="" novalidate="" onSubmit=${send}>
        <label for="bo-broadcast-text">${T.message}</label>
        <textarea ref=${field} id="bo-broadcast-text" name="text" rows="2" maxlength="500" aria-describedby="bo-broadcast-hint"
                  value=${text} onInput=${(event) => setText(event.currentTarget.value)}></textarea>
        <p class="muted bo-hint" id="bo-broadcast-hint">${T.shownAtOnceInEvery}</p>
        <button type="submit" disabled=${ctl.busy.has("broadcast")}>${T.sendToAllRooms}</button>
      </form>
      <ol class="bo-sent" aria-label=${T.messagesSent} data-bo-sent="">
        ${recentBroadcasts(state).map((message) => html`
          <li><time datetime=${message.at}>${clock.format(new Date(message.at))}</time> <span>${message.text}</span></li>
        `)}
      </ol>
    </section>
  `;
}
