// Keeps "upcoming / live / ended" badges and countdowns current without reloading. An
// element whose data-stream-state is "live" (the session page while its stream is) shows
// live whatever the schedule says.
import { nt, t } from "./i18n.js";

const STATES = ["upcoming", "live", "ended"];

function stateLabel(state) {
  switch (state) {
    case "upcoming": return t("Upcoming");
    case "live": return t("Live now");
    default: return t("Ended");
  }
}

export function stateAt(start, end, now) {
  if (now < start) return "upcoming";
  if (now < end) return "live";
  return "ended";
}

export function humanizeMinutes(milliseconds) {
  const minutes = Math.floor(milliseconds / 60000);
  if (minutes < 1) return t("less than a minute");
  if (minutes < 60) return t("{minutes} min", { minutes });
  const hours = Math.floor(minutes / 60);
  if (hours >= 48) return nt("{count} day", "{count} days", Math.floor(hours / 24));
  const rest = minutes % 60;
  return rest ? t("{hours} h {minutes} min", { hours, minutes: rest }) : t("{hours} h", { hours });
}

function showState(element, now) {
  const state = element.dataset.streamState === "live"
    ? "live"
    : stateAt(new Date(element.dataset.start), new Date(element.dataset.end), now);
  for (const name of STATES) element.classList.toggle(`state-${name}`, name === state);
  const badge = element.querySelector("[data-state-badge]");
  if (badge && !badge.classList.contains(`badge-${state}`)) {
    badge.className = `badge badge-${state}`;
    badge.textContent = stateLabel(state);
  }
}

/** The stream of the session shown by ``element`` is now ``streamState`` (live, paused, offline). */
export function followStream(element, streamState) {
  element.dataset.streamState = streamState;
  showState(element, new Date());
}

function refresh(root) {
  const now = new Date();
  for (const element of root.querySelectorAll("[data-session]")) showState(element, now);
  for (const countdown of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll("[data-countdown]"))) {
    countdown.textContent = humanizeMinutes(new Date(countdown.dataset.countdown).getTime() - now.getTime());
  }
}

export function keepStatesCurrent(root, intervalMs = 30000) {
  refresh(root);
  return setInterval(() => refresh(root), intervalMs);
}
