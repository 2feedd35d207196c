// A captioner writes a session's live captions in one language: a line at a time (Enter
// sends it), the last one correctable for a while (Up arrow on an empty line, Escape to
// cancel), with what viewers see now shown beside the lines sent. Lines go through the
// API; what viewers see comes back over the session's captions topic, so the preview is
// what every viewer's player shows.
import { ApiError, api, post } from "../api.js";
import { clock } from "../dom.js";
import { html, render, useEffect, useRef, useState } from "../html.js";
import { fill, t } from "../i18n.js";
import { pageRealtime } from "../realtime.js";
import { fromSnapshot, withCue } from "./lines.js";

const MAX_LINE = 300;
const CORRECTION_MS = 30_000;

function Writer({ code, language }) {
  const [text, setText] = useState("");
  const [sent, setSent] = useState([]);
  const [correcting, setCorrecting] = useState(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [seen, setSeen] = useState({ languages: [], lines: {} });
  const [connection, setConnection] = useState("connecting");
  const field = useRef(null);
  const base = `/api/sessions/${code}/captions/${language}`;

  useEffect(() => {
    pageRealtime()
      .subscribe(`session:${code}:captions`, {
        snapshot: (snapshot) => setSeen(fromSnapshot(snapshot)),
        event: (changes) => setSeen((current) => changes.reduce(
          (next, change) => (change.type === "cue" ? withCue(next, change.cue) : next), current)),
      })
      .onStatus(setConnection);
  }, [code]);

  async function send(event) {
    event?.preventDefault();
    const line = text.trim();
    if (!line || busy) return;
    setBusy(true);
    setError("");
    try {
      if (correcting) {
        const { cue } = await api(`${base}/${correcting.id}`, { method: "PUT", body: { text: line } });
        setSent((lines) => lines.map((l) => (l.id === cue.id ? cue : l)));
      } else {
        const { cue } = await post(base, { text: line });
        setSent((lines) => [...lines, cue].slice(-50));
      }
      setText("");
      setCorrecting(null);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : t("The line was not sent. Try again."));
    } finally {
      setBusy(false);
      field.current?.focus();
    }
  }

  function keyDown(event) {
    if (event.key === "Enter" && !event.shiftKey) {
      send(event);
    } else if (event.key === "ArrowUp" && !text) {
      const last = sent.at(-1);
      if (last && Date.now() - Date.parse(last.at) < CORRECTION_MS) {
        event.preventDefault();
        setCorrecting(last);
        setText(last.text);
      }
    } else if (event.key === "Escape" && correcting) {
      event.preventDefault();
      setCorrecting(null);
      setText("");
    }
  }

  const left = MAX_LINE - [...text].length;
  const showing = (seen.lines[language] ?? []).slice(-2);
  return html`
    <div class="captioner-layout">
      <form class="captioner-form" onSubmit=${send}>
        <p class="captioner-connection" data-captioner-connection data-state=${connection}>
          ${connection === "live" ? t("Live") : t("Reconnecting…")}
        </p>
        <label for="caption-line">${correcting ? t("Correct your last line") : t("Next line")}</label>
        <textarea id="caption-line" ref=${field} rows="2" maxlength=${MAX_LINE} autocomplete="off"
          spellcheck="true" lang=${language} data-captioner-line value=${text} aria-describedby="caption-left"
          onInput=${(event) => setText(event.currentTarget.value)} onKeyDown=${keyDown}></textarea>
        <p id="caption-left" class="muted">${fill(t("{count} characters left"), { count: left })}</p>
        <button type="submit" disabled=${busy || !text.trim()} data-captioner-send>
          ${correcting ? t("Save the correction") : t("Send the line")}
        </button>
        ${error && html`<p class="error" role="alert">${error}</p>`}
      </form>
      <section class="captioner-preview" aria-labelledby="captioner-preview-heading">
        <h2 id="captioner-preview-heading">${t("What viewers see")}</h2>
        <div class="captions-overlay captions-m captions-static" lang=${language} translate="no" data-captioner-preview>
          ${showing.map((line) => html`<p key=${line.id}><span>${line.text}</span></p>`)}
        </div>
      </section>
      <section aria-labelledby="captioner-sent-heading">
        <h2 id="captioner-sent-heading">${t("Your lines")}</h2>
        <ol class="captioner-sent" lang=${language} translate="no" data-captioner-sent>
          ${sent.map((line) => html`
            <li key=${line.id}><time datetime=${line.at}>${clock.format(new Date(line.at))}</time> ${line.text}
              ${line.corrected && html` <span class="muted" lang="">${t("(corrected)")}</span>`}</li>`)}
        </ol>
      </section>
    </div>`;
}

export function mountCaptioner(root) {
  const host = root.querySelector("[data-captioner-app]");
  render(html`<${Writer} code=${root.dataset.sessionCode} language=${root.dataset.language} />`, host);
  host.querySelector("textarea")?.focus();
}
