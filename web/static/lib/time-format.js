// Times as a clock reads them, one way everywhere: the replay's positions and the break-out
// rounds' countdowns ("4:05", "1:02:09"). The server writes the same form for durations
// (web/archive_views.duration_text).

const pad = (value) => String(value).padStart(2, "0");

/** Whole seconds as "M:SS", or "H:MM:SS" from an hour; never negative, NaN as 0. */
export function clockText(seconds) {
  const whole = Math.max(0, Math.floor(Number.isFinite(seconds) ? seconds : 0));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  return hours ? `${hours}:${pad(minutes)}:${pad(rest)}` : `${minutes}:${pad(rest)}`;
}

/** ``ms`` left as a clock reading, rounded up: "4:05", "1:02:09"; never negative. */
export function countdownText(ms) {
  return clockText(Math.ceil(ms / 1000));
}
