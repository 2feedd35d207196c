// The moderator console's side: run the round (open for a while, extend, close with a
// countdown) and message every room (with the last messages sent).
import { html, useRef, useState } from "../html.js";
import { clock } from "../dom.js";
import { plural } from "./common.js";
import { isRunning, recentBroadcasts } from "./console-text.js";

export function RunRound({ state, console: ctl }) {
  const [minutes, setMinutes] = useState("15");
  const [grace, setGrace] = useState("60");

  const open = (event) => {
    event.preventDefault();
    const value = Number(minutes);
    if (!Number.isInteger(value) || value < 1 || value > 240) {
      ctl.fail("Open the rooms for 1 to 240 minutes.");
      return;
    }
    const waiting = state.unassigned.length;
    const rest = waiting ? ` ${waiting} not in a room yet: place them, or use Rebalance.` : "";
    ctl.command("open", { minutes: value }, `Rooms open for ${plural(value, "minute")}.${rest}`, "open");
  };
  const close = (event) => {
    event.preventDefault();
    const seconds = Number(grace);
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 300) {
      ctl.fail("The countdown before closing is 0 to 300 seconds.");
      return;
    }
    ctl.command("close", { grace_seconds: seconds }, seconds ? `Rooms close in ${seconds} seconds.` : "Rooms closed.", "close");
  };
  const extend = (by) => html`
    <button type="button" class="secondary" data-bo-extend=${String(by)} data-focus-key=${`extend-${by}`}
            disabled=${ctl.busy.has(`extend-${by}`)}
            onClick=${() => ctl.command("extend", { minutes: by }, `Extended by ${by} minutes.`, `extend-${by}`)}>${`+${by} minutes`}</button>
  `;

  return html`
    <section class="bo-run" aria-labelledby="bo-run-heading" data-bo-run="" hidden=${!state.planned || state.phase === "closed"}>
      <h3 id="bo-run-heading">Run the round</h3>
      <form class="bo-inline-form" data-bo-open-form="" novalidate="" hidden=${state.phase !== "planning"} onSubmit=${open}>
        <label for="bo-minutes">Duration in minutes</label>
        <div class="bo-field-row">
          <input id="bo-minutes" name="minutes" type="number" min="1" max="240" step="1" inputmode="numeric" required
                 value=${minutes} onInput=${(event) => setMinutes(event.currentTarget.value)} />
          <button type="submit" disabled=${ctl.busy.has("open")}>Open the rooms</button>
        </div>
      </form>
      <div class="bo-running" data-bo-running="" hidden=${!isRunning(state)}>
        <p class="bo-field-row" role="group" aria-labelledby="bo-extend-label">
          <span id="bo-extend-label">Extend</span>
          ${extend(5)}
          ${extend(10)}
        </p>
        <form class="bo-inline-form" data-bo-close-form="" novalidate="" hidden=${state.phase !== "open"} onSubmit=${close}>
          <label for="bo-grace">Countdown before closing, in seconds</label>
          <div class="bo-field-row">
            <input id="bo-grace" name="grace_seconds" type="number" min="0" max="300" step="1" inputmode="numeric" required
                   aria-describedby="bo-grace-hint" value=${grace} onInput=${(event) => setGrace(event.currentTarget.value)} />
            <button type="submit" class="bo-danger" disabled=${ctl.busy.has("close")}>Close the rooms</button>
          </div>
          <p class="muted bo-hint" id="bo-grace-hint">Everyone sees the countdown, then returns to the main session. 0 closes at once.</p>
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
      ctl.fail("Write the message first.");
      field.current?.focus();
      return;
    }
    if (await ctl.command("broadcast", { text: message }, "Message sent to all rooms.", "broadcast")) setText("");
  };
  return html`
    <section class="bo-broadcast" aria-labelledby="bo-broadcast-heading" data-bo-broadcast="" hidden=${!isRunning(state)}>
      <h3 id="bo-broadcast-heading">Message to all rooms</h3>
      <form class="stack" data-bo-broadcast-form="" novalidate="" onSubmit=${send}>
        <label for="bo-broadcast-text">Message</label>
        <textarea ref=${field} id="bo-broadcast-text" name="text" rows="2" maxlength="500" aria-describedby="bo-broadcast-hint"
                  value=${text} onInput=${(event) => setText(event.currentTarget.value)}></textarea>
        <p class="muted bo-hint" id="bo-broadcast-hint">Shown at once in every room.</p>
        <button type="submit" disabled=${ctl.busy.has("broadcast")}>Send to all rooms</button>
      </form>
      <ol class="bo-sent" aria-label="Messages sent" data-bo-sent="">
        ${recentBroadcasts(state).map((message) => html`
          <li><time datetime=${message.at}>${clock.format(new Date(message.at))}</time> <span>${message.text}</span></li>
        `)}
      </ol>
    </section>
  `;
}
