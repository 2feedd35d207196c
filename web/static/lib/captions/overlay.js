// Live captions over the session's player: a Captions button, the language, the text size
// and the position (remembered in this browser), and the lines themselves, which screen
// readers read as they come (a polite live region). Lines come from the session's captions
// topic on the page's one socket.
import { html, render } from "../html.js";
import { locale, t } from "../i18n.js";
import { pageRealtime } from "../realtime.js";
import { chosenLanguage, fromSnapshot, showing, withCue } from "./lines.js";

const STORE_KEY = "plenaria.captions";
const SIZES = ["s", "m", "l"];
const REFRESH_MS = 1000;

function loadPreferences() {
  try {
    return { on: false, language: null, size: "m", position: "bottom", ...JSON.parse(localStorage.getItem(STORE_KEY) ?? "{}") };
  } catch {
    return { on: false, language: null, size: "m", position: "bottom" };
  }
}

function languageName(code) {
  try {
    return new Intl.DisplayNames([locale], { type: "language" }).of(code) ?? code;
  } catch {
    return code;
  }
}

const sizeLabel = (size) => ({ s: t("Small"), m: t("Medium"), l: t("Large") })[size];

function Controls({ state, preferences, change, language }) {
  if (state.languages.length === 0) return null;
  return html`
    <span class="captions-controls" data-captions-controls>
      <button type="button" aria-pressed=${preferences.on ? "true" : "false"} data-captions-toggle
        onClick=${() => change({ on: !preferences.on })}>${t("Captions")}</button>
      ${preferences.on && html`
        <label class="visually-hidden" for="captions-language">${t("Captions language")}</label>
        <select id="captions-language" data-captions-language value=${language ?? ""}
          onChange=${(event) => change({ language: event.currentTarget.value })}>
          ${state.languages.map((code) => html`<option value=${code}>${languageName(code)}</option>`)}
        </select>
        <label class="visually-hidden" for="captions-size">${t("Text size")}</label>
        <select id="captions-size" data-captions-size value=${preferences.size}
          onChange=${(event) => change({ size: event.currentTarget.value })}>
          ${SIZES.map((size) => html`<option value=${size}>${sizeLabel(size)}</option>`)}
        </select>
        <button type="button" data-captions-position
          onClick=${() => change({ position: preferences.position === "top" ? "bottom" : "top" })}>
          ${preferences.position === "top" ? t("Captions at the bottom") : t("Captions at the top")}
        </button>`}
    </span>`;
}

function Lines({ state, preferences, language, now }) {
  if (!preferences.on || !language) return null;
  const lines = showing(state, language, now);
  return html`
    <div class=${`captions-overlay captions-${preferences.size} captions-${preferences.position}`}
      role="log" aria-live="polite" aria-label=${t("Live captions")} lang=${language} translate="no" data-captions-lines>
      ${lines.map((line) => html`<p key=${line.id} data-cue-id=${line.id}><span>${line.text}</span></p>`)}
    </div>`;
}

/** Follows the captions topic and draws the controls and the lines into their two places
 *  (one Preact root each) whenever something changes. */
class CaptionsView {
  state = { languages: [], lines: {} };
  preferences = loadPreferences();

  constructor(code, controlsHost, linesHost) {
    this.controlsHost = controlsHost;
    this.linesHost = linesHost;
    pageRealtime().subscribe(`session:${code}:captions`, {
      snapshot: (snapshot) => this.update(fromSnapshot(snapshot)),
      event: (changes) => this.update(changes.reduce(
        (next, change) => (change.type === "cue" ? withCue(next, change.cue) : next), this.state)),
    });
    setInterval(() => this.draw(), REFRESH_MS); // lines fade out after a while
  }

  update(state) {
    this.state = state;
    this.draw();
  }

  change(update) {
    this.preferences = { ...this.preferences, ...update };
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(this.preferences));
    } catch {
      // private browsing: the choice lasts this page only
    }
    this.draw();
  }

  draw() {
    const { state, preferences } = this;
    const language = chosenLanguage(state, preferences.language, locale);
    const props = { state, preferences, language, now: Date.now(), change: (update) => this.change(update) };
    render(html`<${Controls} ...${props} />`, this.controlsHost);
    render(html`<${Lines} ...${props} />`, this.linesHost);
  }
}

/** Captions for the player at ``root``: the controls join its control bar, the lines go
 *  over its video. */
export function mountCaptions(root, code) {
  const controlsHost = document.createElement("span");
  controlsHost.className = "captions-controls-host";
  root.querySelector("[data-player-fullscreen]")?.before(controlsHost);
  const linesHost = document.createElement("div");
  linesHost.className = "captions-host";
  root.append(linesHost);
  return new CaptionsView(code, controlsHost, linesHost);
}
