// A microphone level meter: a Web Audio AnalyserNode reads the local stream's microphone and
// a <meter> shows its peak level, like an encoder's audio mixer does (0 dBFS at the top,
// FLOOR_DB at the bottom; it rises at once and falls back slowly, so short peaks stay
// readable).
import { formatNumber, t } from "./i18n.js";

const FLOOR_DB = -60;
const FALL_DB_PER_SECOND = 24;

/** A peak sample's level on the meter's scale, 0 (silence, or FLOOR_DB) to 1 (0 dBFS). */
export function meterLevel(peak) {
  if (!(peak > 0)) return 0;
  const decibels = 20 * Math.log10(peak);
  return Math.min(1, Math.max(0, 1 - decibels / FLOOR_DB));
}

/** What a screen reader says for a level on the meter's scale. */
export function levelText(level) {
  return level > 0 ? t("{decibels} dB", { decibels: formatNumber(Math.round(FLOOR_DB * (1 - level))) }) : t("Silent");
}

export class LevelMeter {
  /** @type {AudioContext | null} */
  #context = null;
  /** @type {AnalyserNode | null} */
  #analyser = null;
  /** @type {MediaStreamAudioSourceNode | null} */
  #source = null;
  #samples = new Float32Array(0);
  #level = 0;
  #measuredAt = 0;
  #running = false;

  /** @param {HTMLMeterElement} meter */
  constructor(meter) {
    this.meter = meter;
  }

  /** Measure ``stream``'s microphone from now on, instead of the one measured before. */
  listen(stream) {
    this.#source?.disconnect();
    this.#source = null;
    const [track] = stream.getAudioTracks();
    if (!track) return this.#show(0);
    const context = this.#audioContext();
    this.#source = context.createMediaStreamSource(new MediaStream([track]));
    this.#source.connect(this.#analyser);
    if (!this.#running) {
      this.#running = true;
      requestAnimationFrame((now) => this.#measure(now));
    }
  }

  #audioContext() {
    if (this.#context) return this.#context;
    const context = new AudioContext();
    this.#analyser = context.createAnalyser();
    this.#analyser.fftSize = 2048;
    this.#samples = new Float32Array(this.#analyser.fftSize);
    if (context.state === "suspended") {
      // Browsers start audio only after the person did something on the page.
      const resume = () => context.resume();
      for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, resume, { once: true });
    }
    this.#context = context;
    return context;
  }

  #measure(now) {
    if (this.#source) {
      this.#analyser.getFloatTimeDomainData(this.#samples);
      let peak = 0;
      for (const sample of this.#samples) peak = Math.max(peak, Math.abs(sample));
      const elapsed = this.#measuredAt ? (now - this.#measuredAt) / 1000 : 0;
      const fallen = this.#level - (elapsed * FALL_DB_PER_SECOND) / -FLOOR_DB;
      this.#show(Math.max(meterLevel(peak), fallen, 0));
    }
    this.#measuredAt = now;
    requestAnimationFrame((next) => this.#measure(next));
  }

  #show(level) {
    this.#level = level;
    this.meter.value = level;
    const text = levelText(level);
    if (this.meter.getAttribute("aria-valuetext") !== text) this.meter.setAttribute("aria-valuetext", text);
  }
}
