// The replay's language picker: the floor (the video's own sound) or an interpretation
// channel, played from its own audio file in step with the video (browsers other than
// Safari cannot switch a file's audio tracks). The floor can stay low underneath; the
// choice is the same one the live player remembers.
import { api } from "../api.js";
import { html, render } from "../html.js";
import { locale, t } from "../i18n.js";

const STORE_KEY = "plenaria.interpretation";
const FLOOR_UNDERNEATH = 0.15;
const DRIFT_SECONDS = 0.3;

function remembered() {
  try {
    return { language: "", underneath: false, ...JSON.parse(localStorage.getItem(STORE_KEY) ?? "{}") };
  } catch {
    return { language: "", underneath: false };
  }
}

function Picker({ tracks, choice, change }) {
  const names = new Intl.DisplayNames([locale], { type: "language" });
  return html`
    <p class="replay-languages" data-replay-languages>
      <label for="replay-language">${t("Audio language")}</label>
      <select id="replay-language" data-replay-language value=${choice.language}
        onChange=${(event) => change({ language: event.currentTarget.value })}>
        <option value="">${t("Floor (original)")}</option>
        ${tracks.map((track) => html`<option value=${track.language}>${names.of(track.language) ?? track.language}</option>`)}
      </select>
      ${choice.language && html`
        <label class="channel-underneath">
          <input type="checkbox" checked=${choice.underneath} data-replay-underneath
            onChange=${(event) => change({ underneath: event.currentTarget.checked })} />
          ${t("Floor underneath")}
        </label>`}
    </p>`;
}

/** The picker for the replay of ``recordingId`` playing in ``video``, drawn into ``host``. */
export async function mountReplayAudio(video, recordingId, host) {
  let tracks;
  try {
    ({ tracks } = await api(`/api/recordings/${recordingId}/audio`));
  } catch {
    return; // the replay plays on with the floor only
  }
  if (!tracks.length) return;
  const audio = document.createElement("audio");
  audio.preload = "auto";
  audio.dataset.replayChannel = "";
  video.after(audio);
  let choice = remembered();

  const follow = () => {
    const track = tracks.find((candidate) => candidate.language === choice.language);
    if (!track) {
      audio.pause();
      audio.removeAttribute("src");
      video.volume = 1;
      return;
    }
    if (audio.dataset.language !== track.language) {
      audio.dataset.language = track.language;
      audio.src = track.src;
      audio.currentTime = video.currentTime;
    }
    video.volume = choice.underneath ? FLOOR_UNDERNEATH : 0;
    audio.muted = video.muted;
    audio.playbackRate = video.playbackRate;
    if (!video.paused) audio.play().catch(() => {});
  };
  const inStep = () => {
    if (!audio.src) return;
    if (Math.abs(audio.currentTime - video.currentTime) > DRIFT_SECONDS) audio.currentTime = video.currentTime;
  };
  video.addEventListener("play", follow);
  video.addEventListener("pause", () => audio.pause());
  video.addEventListener("seeked", inStep);
  video.addEventListener("timeupdate", inStep);
  video.addEventListener("ratechange", () => { audio.playbackRate = video.playbackRate; });
  video.addEventListener("volumechange", () => { audio.muted = video.muted; });

  const draw = () => render(html`<${Picker} tracks=${tracks} choice=${choice} change=${change} />`, host);
  function change(update) {
    choice = { ...choice, ...update };
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(choice));
    } catch {
      // private browsing: the choice lasts this page only
    }
    follow();
    draw();
  }
  follow();
  draw();
}
