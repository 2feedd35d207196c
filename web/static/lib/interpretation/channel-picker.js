// The player's language picker: the floor (the room's own sound) or an interpreter's
// channel, which replaces the floor's audio, with the floor optionally kept low underneath.
// A channel is its own WHEP connection (/whep/CODE/LANG, audio only), kept up by the shared
// reconnecting peer; the choice is remembered in this browser.
import { html, render } from "../html.js";
import { locale, t } from "../i18n.js";
import { ReconnectingPeer } from "../reconnecting-peer.js";

const STORE_KEY = "plenaria.interpretation";
const FLOOR_UNDERNEATH = 0.15;
const DELAYS_MS = [0, 1000, 2000, 5000, 10000];

function remembered() {
  try {
    return { language: "", underneath: false, ...JSON.parse(localStorage.getItem(STORE_KEY) ?? "{}") };
  } catch {
    return { language: "", underneath: false };
  }
}

function languageName(code) {
  try {
    return new Intl.DisplayNames([locale], { type: "language" }).of(code) ?? code;
  } catch {
    return code;
  }
}

function Picker({ channels, choice, change }) {
  if (channels.length === 0) return null;
  return html`
    <span class="channel-picker" data-channel-picker>
      <label class="visually-hidden" for="channel-choice">${t("Audio language")}</label>
      <select id="channel-choice" data-channel-choice value=${choice.language}
        onChange=${(event) => change({ language: event.currentTarget.value })}>
        <option value="">${t("Floor (original)")}</option>
        ${channels.map((channel) => html`
          <option value=${channel.language}>
            ${channel.on_air ? languageName(channel.language) : t("{language} (no interpreter yet)", { language: languageName(channel.language) })}
          </option>`)}
      </select>
      ${choice.language && html`
        <label class="channel-underneath">
          <input type="checkbox" checked=${choice.underneath} data-channel-underneath
            onChange=${(event) => change({ underneath: event.currentTarget.checked })} />
          ${t("Floor underneath")}
        </label>`}
    </span>`;
}

export class ChannelPicker {
  /** @type {{ language: string, on_air: boolean, interpreter?: string | null }[]} */
  channels = [];
  choice = remembered();
  /** @type {ReconnectingPeer | null} */
  #link = null;
  #linkLanguage = "";

  /** @param {HTMLElement} root the player @param {string} code @param {HTMLVideoElement} video */
  constructor(root, code, video) {
    this.code = code;
    this.video = video;
    this.host = document.createElement("span");
    root.querySelector("[data-player-fullscreen]")?.before(this.host);
    this.audio = document.createElement("audio");
    this.audio.autoplay = true;
    this.audio.dataset.channelAudio = "";
    root.append(this.audio);
    video.addEventListener("volumechange", () => this.#mix());
    window.addEventListener("pagehide", () => this.#link?.stop());
  }

  /** The session's stream state changed: its languages and who is on air. */
  update(interpretation, live) {
    this.channels = interpretation ?? [];
    this.live = live;
    this.#follow();
    this.#draw();
  }

  change(update) {
    this.choice = { ...this.choice, ...update };
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(this.choice));
    } catch {
      // private browsing: the choice lasts this page only
    }
    this.#follow();
    this.#draw();
  }

  /** The channel to hear: the chosen one while the session declares it and is live. */
  #wanted() {
    const declared = this.channels.some((channel) => channel.language === this.choice.language);
    return this.live && declared ? this.choice.language : "";
  }

  #follow() {
    const wanted = this.#wanted();
    if (wanted !== this.#linkLanguage) {
      this.#link?.stop();
      this.#link = null;
      this.#linkLanguage = wanted;
      if (wanted) this.#connect(wanted);
    }
    this.#mix();
  }

  #connect(language) {
    const link = new ReconnectingPeer(`/whep/${this.code}/${language}`, {
      setUp: (peer) => {
        peer.addTransceiver("audio", { direction: "recvonly" });
        peer.addEventListener("track", (event) => {
          this.audio.srcObject = event.streams[0] ?? new MediaStream([event.track]);
        });
      },
      report: () => {},
      delays: DELAYS_MS,
      graceMs: 3000,
      connectLimitMs: 8000,
    });
    this.#link = link;
    link.start();
  }

  /** The channel replaces the floor's sound; the floor stays low underneath if asked. */
  #mix() {
    const channel = Boolean(this.#linkLanguage);
    this.audio.muted = !channel || this.video.muted;
    const floor = !channel ? 1 : this.choice.underneath ? FLOOR_UNDERNEATH : 0;
    if (this.video.volume !== floor) this.video.volume = floor;
  }

  #draw() {
    render(html`<${Picker} channels=${this.channels} choice=${this.choice} change=${(u) => this.change(u)} />`, this.host);
  }
}
