// The page's language for the ES modules: t() and nt() translate through the catalog the
// server put in the page (<script type="application/json" id="plenaria-messages">, from
// web/locale/<lang>/LC_MESSAGES/js.po), and the Intl formats follow <html lang>, so dates and
// numbers read as the rest of the page does. English is the source: a string the catalog
// lacks is shown as written.

/** @type {Record<string, string | string[]>} */
let messages = {};
/** The page's locale ("fr"), as the server chose it; "en" outside a page. */
export let locale = "en";

if (typeof document !== "undefined") {
  locale = document.documentElement.lang || "en";
  const block = document.getElementById("plenaria-messages");
  try {
    messages = block ? JSON.parse(block.textContent ?? "{}") : {};
  } catch {
    messages = {};
  }
}

/** Use ``catalog`` for ``code`` (tests, and pages that switch without a reload). */
export function useMessages(code, catalog) {
  locale = code;
  messages = catalog;
}

/** ``text`` with each ``{name}`` replaced by ``values[name]``. */
export function fill(text, values = {}) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** ``msgid`` in the page's language, its ``{name}`` placeholders filled from ``values``. */
export function t(msgid, values = {}) {
  const found = messages[msgid];
  return fill(typeof found === "string" && found ? found : msgid, values);
}

/** ``singular`` or ``plural`` as ``count`` needs in the page's language; ``{count}`` and the
 *  other ``{name}``s filled (the count written as the locale writes numbers). */
export function nt(singular, plural, count, values = {}) {
  const found = messages[singular];
  const filled = { count: formatNumber(count), ...values };
  if (Array.isArray(found) && found.length > 0) {
    // The server lists the locale's plural categories under "" in its forms' order.
    const categories = Array.isArray(messages[""]) ? messages[""] : ["one", "other"];
    const index = categories.indexOf(new Intl.PluralRules(locale).select(count));
    return fill(found[index < 0 ? found.length - 1 : Math.min(index, found.length - 1)], filled);
  }
  return fill(count === 1 ? singular : plural, filled);
}

/** A number as the page's locale writes it ("1 234,5" in French). */
export function formatNumber(value, options = {}) {
  return new Intl.NumberFormat(locale, options).format(value);
}

/**
 * ``text`` (from t() or nt(), its markup placeholders left unfilled) cut at each ``{name}``
 * of ``values``: the pieces of text with the values (elements, components) between them, so a
 * sentence with a <strong> inside stays one sentence for the translator.
 * @param {string} text
 * @param {Record<string, any>} values
 * @returns {any[]}
 */
export function split(text, values) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(/\{(\w+)\}/g)) {
    if (!(match[1] in values)) continue;
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(values[match[1]]);
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}
