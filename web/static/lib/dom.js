// Small helpers every page's modules share: building elements safely, and the local clock
// format for times of day.

import { locale } from "./i18n.js";

/** Times of day as the page's locale writes them ("14:05", "2:05 PM"). */
export const clock = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });

/** A DOM element; every text goes in as textContent, never as HTML. */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") element.textContent = value;
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}
