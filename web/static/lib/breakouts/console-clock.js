// The moderator console's round clock: time left while the rooms are open, the closing
// countdown after, against the server's clock; the minutes-left warning the rooms see.
import { formatCountdown } from "./common.js";
import { nt, t } from "../i18n.js";
import { html, useEffect, useReducer } from "../html.js";
import { isRunning } from "./console-text.js";

/** The words this module's templates show, read when rendering (outside the templates,
 *  where the catalog's extractor finds them). */
const T = {
  get roomsCloseIn() { return t("Rooms close in"); },
  get timeLeft() { return t("Time left"); },
};

const TICK_MS = 250;

export function ConsoleClock({ state, serverClock }) {
  const [, tick] = useReducer((n) => n + 1, 0);
  const running = isRunning(state);
  useEffect(() => {
    if (!running) return undefined;
    const timer = setInterval(tick, TICK_MS);
    return () => clearInterval(timer);
  }, [running]);

  const closing = state?.phase === "closing";
  const left = running ? serverClock.until(closing ? state.closes_at : state.ends_at) ?? 0 : 0;
  const warning = running && !!state.warning;
  const seen = warning ? nt("Rooms see: {count} minute left", "Rooms see: {count} minutes left", state.warning) : "";
  return html`
    <div class="bo-clock" data-bo-clock="" data-state=${closing ? "closing" : warning ? "warning" : "open"} hidden=${!running}>
      <span class="bo-clock-label" id="bo-clock-label" data-bo-clock-label="">${closing ? T.roomsCloseIn : T.timeLeft}</span>
      <span class="bo-countdown" role="timer" aria-labelledby="bo-clock-label" data-bo-countdown="">${running ? formatCountdown(left) : ""}</span>
      <span class="badge bo-warning" data-bo-warning="" hidden=${closing || !warning}>${seen}</span>
    </div>
  `;
}
