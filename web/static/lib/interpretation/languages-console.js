// The console's interpretation languages: which languages the session is interpreted into
// (each gets a booth, a channel viewers can pick and a track in the recordings) and whether
// an interpreter is on air in each. Saved through the command log, so every process and
// every viewer's player follows.
import { ApiError, api } from "../api.js";
import { html, render, useState } from "../html.js";
import { locale, t } from "../i18n.js";

function languageName(code) {
  try {
    return new Intl.DisplayNames([locale], { type: "language" }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** "fr, de it;ES" → ["fr", "de", "it", "es"] (codes as typed; the server checks them). */
export function parseLanguages(text) {
  return text.split(/[\s,;]+/).map((code) => code.trim().toLowerCase()).filter(Boolean);
}

function Languages({ code, channels }) {
  const [text, setText] = useState(null);
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");
  const shown = text ?? channels.map((channel) => channel.language).join(", ");

  async function save(event) {
    event.preventDefault();
    setError("");
    try {
      await api(`/api/sessions/${code}/interpretation`, { method: "PUT", body: { languages: parseLanguages(shown) } });
      setText(null);
      setMessage(t("Interpretation languages saved."));
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : t("That did not work. Try again."));
    }
  }

  return html`
    <form class="interpretation-console" onSubmit=${save} data-interpretation-console>
      <h3>${t("Interpretation")}</h3>
      <label for="interpretation-languages">${t("Languages (codes such as fr, de, ru)")}</label>
      <input id="interpretation-languages" value=${shown} autocomplete="off" spellcheck="false"
        data-interpretation-languages onInput=${(event) => setText(event.currentTarget.value)} />
      <button type="submit">${t("Save languages")}</button>
      ${channels.length > 0 && html`
        <ul class="interpretation-channels" data-interpretation-channels>
          ${channels.map((channel) => html`
            <li key=${channel.language}>${languageName(channel.language)}:${" "}<span>${channel.on_air ? t("an interpreter is on air") : t("no interpreter yet")}</span></li>`)}
        </ul>`}
      <p class="qa-status" role="status">${message}</p>
      ${error && html`<p class="qa-error" role="alert">${error}</p>`}
    </form>`;
}

/** The languages' controls at the end of the console's stream panel. */
export function mountLanguagesConsole(panel, code) {
  const host = document.createElement("div");
  panel.append(host);
  return { update: (channels) => render(html`<${Languages} code=${code} channels=${channels ?? []} />`, host) };
}
