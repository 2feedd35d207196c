// The console's hand on what leaves the hall: going off the record (one button, or the "o"
// key anywhere on the console), and what each person on stage agreed to (streamed, recorded,
// seen or only heard). Both are saved through the command log and enforced by the server;
// the hall never notices.
import { ApiError, api, post } from "../api.js";
import { clock } from "../dom.js";
import { html, render, useEffect, useState } from "../html.js";
import { t } from "../i18n.js";
import { clockText } from "../time-format.js";

/**
 * @typedef {{ stream: boolean, record: boolean, media: "video" | "audio" }} Consent
 * @typedef {{ subject: string, name: string, consent: Consent, edited: boolean }} Party
 * @typedef {{ parties: Party[], effective: Consent, streamed: boolean, recorded: boolean, audio_only: boolean }} SessionConsent
 */

/** What the server will enforce, in one sentence, naming who decided it. */
export function consentSummary(/** @type {SessionConsent} */ consent) {
  const who = (/** @type {(c: Consent) => boolean} */ holds) =>
    consent.parties.filter((party) => holds(party.consent)).map((party) => party.name || t("the programme"));
  if (!consent.streamed) return t("Not streamed: {who} did not agree. Nothing leaves the hall.", { who: who((c) => !c.stream).join(", ") });
  const parts = [];
  parts.push(consent.recorded ? t("Streamed and recorded.") : t("Streamed, not recorded ({who}).", { who: who((c) => !c.record).join(", ") }));
  if (consent.audio_only) parts.push(t("Audio only: {who} may be heard, not seen.", { who: who((c) => c.media === "audio").join(", ") }));
  return parts.join(" ");
}

function ConsentRow({ party, save, busy }) {
  const label = party.name || t("The session (programme)");
  const change = (/** @type {Partial<Consent>} */ patch) => save(party.subject, { ...party.consent, ...patch });
  const id = `consent-${party.subject || "session"}`;
  return html`
    <tr data-consent-party=${party.subject}>
      <th scope="row">${label}${party.edited ? "" : html` <span class="muted">${t("(as planned)")}</span>`}</th>
      <td><input type="checkbox" id=${`${id}-stream`} aria-label=${t("{name}: streamed", { name: label })}
        checked=${party.consent.stream} disabled=${busy} data-consent-stream
        onChange=${(event) => change({ stream: event.currentTarget.checked })} /></td>
      <td><input type="checkbox" id=${`${id}-record`} aria-label=${t("{name}: recorded", { name: label })}
        checked=${party.consent.record} disabled=${busy} data-consent-record
        onChange=${(event) => change({ record: event.currentTarget.checked })} /></td>
      <td><select aria-label=${t("{name}: seen or heard", { name: label })} disabled=${busy} data-consent-media
        value=${party.consent.media} onChange=${(event) => change({ media: event.currentTarget.value })}>
        <option value="video">${t("Video")}</option>
        <option value="audio">${t("Audio only")}</option>
      </select></td>
    </tr>`;
}

function ConsentPanel({ code }) {
  const [consent, setConsent] = useState(/** @type {SessionConsent | null} */ (null));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  useEffect(() => {
    api(`/api/sessions/${code}/consent`).then(setConsent, (failure) => setError(String(failure.message ?? failure)));
  }, [code]);

  async function save(subject, chosen) {
    setBusy(true);
    setError("");
    try {
      setConsent(await api(`/api/sessions/${code}/consent`, { method: "PUT", body: { subject, ...chosen } }));
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : t("That did not work. Try again."));
    }
    setBusy(false);
  }

  if (!consent) return html`<p class="muted">${error || t("Loading consent…")}</p>`;
  return html`
    <div class="consent-console" data-consent-console>
      <h3>${t("Consent")}</h3>
      <p class=${consent.streamed && !consent.audio_only && consent.recorded ? "muted" : "consent-warning"}
        data-consent-summary aria-live="polite">${consentSummary(consent)}</p>
      <table class="consent-table">
        <caption class="visually-hidden">${t("What each person on stage agreed to")}</caption>
        <thead><tr><th scope="col">${t("Who")}</th><th scope="col">${t("Streamed")}</th><th scope="col">${t("Recorded")}</th><th scope="col">${t("Seen")}</th></tr></thead>
        <tbody>${consent.parties.map((party) => html`<${ConsentRow} key=${party.subject} party=${party} save=${save} busy=${busy} />`)}</tbody>
      </table>
      ${error && html`<p class="qa-error" role="alert">${error}</p>`}
    </div>`;
}

function elapsed(since, now) {
  return clockText(Math.max(0, Math.floor((now - Date.parse(since)) / 1000)));
}

function OffRecord({ code, stream }) {
  const [error, setError] = useState("");
  const [now, setNow] = useState(Date.now());
  const off = Boolean(stream.off_record);
  useEffect(() => {
    if (!off) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [off]);

  async function set(wanted) {
    setError("");
    try {
      await post(`/api/sessions/${code}/off-record`, { off: wanted });
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : t("That did not work. Try again."));
    }
  }

  return html`
    <div class=${off ? "off-record off-record-on" : "off-record"} data-off-record>
      ${off
        ? html`
          <p class="off-record-banner" role="status" data-off-record-banner>
            <strong>${t("Off the record")}</strong>${" "}
            ${t("since {time} ({elapsed}): remote viewers see a slate and hear nothing; nothing is recorded. The hall is not affected.", {
              time: clock.format(new Date(stream.off_record_since)),
              elapsed: elapsed(stream.off_record_since, now),
            })}
          </p>
          <button type="button" onClick=${() => set(false)} data-off-record-end>${t("Back on the record")}</button>`
        : html`
          <button type="button" class="danger" aria-keyshortcuts="o" onClick=${() => set(true)} data-off-record-start>
            ${t("Go off the record")} <kbd>O</kbd>
          </button>
          <p class="muted rec-hint">${t("At once, remote viewers see a slate and hear nothing, and the recording pauses. The hall hears everything.")}</p>`}
      ${error && html`<p class="qa-error" role="alert">${error}</p>`}
    </div>`;
}

/** Whether a key press belongs to a field being typed in (shortcuts leave those alone). */
function typing(/** @type {EventTarget | null} */ target) {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

/** The off-the-record control and the consent table, at the top of the console's stream
 *  panel; ``update`` gives them the stream state from the studio topic. */
export function mountConsentConsole(/** @type {HTMLElement} */ panel, /** @type {string} */ code) {
  const offRecordHost = document.createElement("div");
  const consentHost = document.createElement("div");
  panel.querySelector("h2")?.after(offRecordHost, consentHost);
  render(html`<${ConsentPanel} code=${code} />`, consentHost);
  let off = false;
  document.addEventListener("keydown", (event) => {
    if (event.key !== "o" || event.ctrlKey || event.metaKey || event.altKey || typing(event.target) || off) return;
    event.preventDefault();
    post(`/api/sessions/${code}/off-record`, { off: true }).catch(() => undefined);
  });
  return {
    update(/** @type {{ off_record?: boolean, off_record_since?: string }} */ stream) {
      off = Boolean(stream.off_record);
      render(html`<${OffRecord} code=${code} stream=${stream} />`, offRecordHost);
    },
  };
}
