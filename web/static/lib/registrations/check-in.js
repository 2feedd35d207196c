// Check-in at the door. Each scanned ticket, typed code or person found by name is sent to
// POST /api/check-ins, and the answer (who it is, checked in now or already at HH:MM) is shown
// big and announced through the page's live region, ready for the next. The page's forms
// work without JavaScript; this takes them over so nothing reloads.
import { ApiError, api, post } from "../api.js";
import { clock } from "../dom.js";
import { html, render } from "../html.js";
import { t } from "../i18n.js";
import { Scanner, cameraAvailable } from "./scanner.js";

/** @typedef {{ name: string, organisation: string, country_name: string, delegation_type: string, attends: string, participant_id: string, checked_in_at: string | null }} Person */

function Arrival({ answer }) {
  const { person, already, at } = answer;
  const details = [person.organisation, person.country_name, person.delegation_type].filter(Boolean);
  return html`
    <div class=${`arrival ${already ? "arrival-again" : "arrival-new"}`} data-arrival data-already=${String(already)}>
      <p class="arrival-state">
        ${already ? t("Already checked in at {time}", { time: clock.format(new Date(at)) }) : t("Checked in now")}
      </p>
      <p class="arrival-name" translate="no">${person.name}</p>
      ${details.length > 0 && html`<p translate="no">${details.join(" · ")}</p>`}
      ${person.attends === "remote" && html`<p class="notice">${t("Registered to attend remotely.")}</p>`}
    </div>`;
}

function Refusal({ message }) {
  return html`<p class="error arrival-error" role="alert" data-arrival-error>${message}</p>`;
}

function People({ people, onCheckIn }) {
  if (people.length === 0) return html`<p role="status">${t("Nobody registered matches.")}</p>`;
  return html`
    <ul class="check-in-people">
      ${people.map((person) => html`
        <li key=${person.participant_id}>
          <span translate="no"><strong>${person.name}</strong>${person.organisation ? ` · ${person.organisation}` : ""}</span>
          ${person.country_name ? ` · ${person.country_name}` : ""}
          ${" · "}${person.attends === "remote" ? t("Remote") : t("In person")}
          ${person.checked_in_at && html` <span class="muted">${t("checked in")}</span>`}
          ${" "}<button type="button" class="secondary" aria-label=${t("Check in {name}", { name: person.name })}
            onClick=${() => onCheckIn(person)}>${t("Check in")}</button>
        </li>`)}
    </ul>`;
}

export function mountCheckIn(root) {
  const answerBox = /** @type {HTMLElement} */ (root.querySelector("[data-check-in-answer]"));
  const codeForm = /** @type {HTMLFormElement} */ (root.querySelector("[data-check-in-form]"));
  const codeField = /** @type {HTMLInputElement} */ (codeForm.querySelector("input[name=code]"));
  const searchForm = /** @type {HTMLFormElement} */ (root.querySelector("[data-check-in-search]"));
  const peopleBox = /** @type {HTMLElement} */ (root.querySelector("[data-check-in-people]"));
  const camera = /** @type {HTMLElement} */ (root.querySelector("[data-check-in-camera]"));
  const video = /** @type {HTMLVideoElement} */ (root.querySelector("[data-check-in-video]"));
  const cameraState = /** @type {HTMLElement} */ (root.querySelector("[data-check-in-camera-state]"));
  const toggle = /** @type {HTMLButtonElement} */ (root.querySelector("[data-check-in-camera-toggle]"));
  answerBox.replaceChildren();
  peopleBox.replaceChildren();
  let busy = Promise.resolve();

  function show(view) {
    render(view, answerBox);
  }

  /** One check-in at a time, in the order they came (two scans never race). */
  function checkIn(body) {
    busy = busy.then(async () => {
      try {
        const { check_in: answer } = await post("/api/check-ins", body);
        show(html`<${Arrival} answer=${answer} />`);
        return answer;
      } catch (failure) {
        show(html`<${Refusal} message=${failure instanceof ApiError ? failure.message : t("The check-in failed. Try again.")} />`);
        return null;
      }
    });
    return busy;
  }

  codeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = codeField.value.trim();
    if (!code) return;
    await checkIn({ token: code });
    codeField.value = "";
    codeField.focus();
  });

  async function search(query) {
    if (!query.trim()) {
      render(null, peopleBox);
      return;
    }
    try {
      const { people } = await api(`/api/check-ins/search?q=${encodeURIComponent(query)}`);
      render(html`<${People} people=${people} onCheckIn=${async (/** @type {Person} */ person) => {
        await checkIn({ participant: person.participant_id });
        await search(query);
      }} />`, peopleBox);
    } catch (failure) {
      render(html`<${Refusal} message=${failure instanceof ApiError ? failure.message : t("The search failed. Try again.")} />`, peopleBox);
    }
  }

  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = /** @type {HTMLInputElement} */ (searchForm.querySelector("input[name=q]")).value;
    search(query);
  });

  if (!cameraAvailable()) return;
  const scanner = new Scanner(video, (code) => checkIn({ token: code }));
  camera.hidden = false;

  async function startCamera() {
    cameraState.textContent = t("Starting the camera…");
    toggle.disabled = true;
    try {
      await scanner.start();
      // On a phone, a focused field's keyboard would cover the camera.
      if (document.activeElement === codeField) codeField.blur();
      cameraState.textContent = t("Hold a ticket's QR code in front of the camera.");
      toggle.textContent = t("Stop the camera");
      root.dataset.camera = "on";
    } catch (failure) {
      scanner.stop();
      cameraState.textContent = t("The camera cannot be used ({reason}). Type the code or search by name below.", {
        reason: failure instanceof Error ? failure.name : String(failure),
      });
      toggle.textContent = t("Start the camera");
      root.dataset.camera = "off";
    } finally {
      toggle.disabled = false;
    }
  }

  toggle.addEventListener("click", () => {
    if (scanner.running) {
      scanner.stop();
      cameraState.textContent = t("The camera is off.");
      toggle.textContent = t("Start the camera");
      root.dataset.camera = "off";
    } else {
      startCamera();
    }
  });
  startCamera();
}
