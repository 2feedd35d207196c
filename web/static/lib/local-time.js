// Shows every <time data-local> in the viewer's own time zone, written as the page's
// language writes times.
import { locale, t } from "./i18n.js";

const timeFormat = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(locale, {
  weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
});

export function viewerZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function localizeTimes(root) {
  for (const element of root.querySelectorAll("time[data-local]")) {
    const instant = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(instant.getTime())) continue;
    const format = element.dataset.local === "datetime" ? dateTimeFormat : timeFormat;
    element.textContent = format.format(instant);
    element.title = instant.toISOString();
  }
  const zone = viewerZone();
  for (const label of root.querySelectorAll("[data-zone-label]")) {
    label.textContent = zone === label.dataset.conferenceZone
      ? zone
      : t("your time zone ({zone}); the conference runs on {conference}", {
        zone,
        conference: label.dataset.conferenceZone,
      });
  }
}
