// The replay page: chapter and answered-question buttons that seek, the chapter playing
// now, #t=<seconds> in the address to start somewhere, and a link to share the current
// moment. Playing is left to the browser's own video controls (keyboard and screen reader
// accessible, and there without this module): one set of controls, not two.
import { clockText } from "../lib/time-format.js";
import { locale, t } from "../lib/i18n.js";
import { api, post } from "../lib/api.js";
import { mountReplayAudio } from "../lib/interpretation/replay-audio.js";

const HAVE_METADATA = 1;

/** Seconds from "90", "90.5", "1:30", "1:02:03" or "1h2m3s"; null when it is none of them. */
export function parseTime(value) {
  const text = String(value ?? "").trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  if (/^\d+(:\d{1,2}){1,2}(\.\d+)?$/.test(text)) {
    return text.split(":").reduce((total, part) => total * 60 + Number(part), 0);
  }
  const units = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(text);
  if (units && text) return Number(units[1] ?? 0) * 3600 + Number(units[2] ?? 0) * 60 + Number(units[3] ?? 0);
  return null;
}

/** The start time a location hash asks for (#t=90, also Media Fragments' "#t=90,120" and "npt:"). */
export function hashTime(hash) {
  const params = new URLSearchParams(String(hash ?? "").replace(/^#/, ""));
  const value = params.get("t");
  if (value === null) return null;
  return parseTime(value.split(",")[0].replace(/^npt:/, ""));
}

/** A position in the recording, as "Playing from …" says it. */
export const formatTime = clockText;

class Replay {
  constructor(root) {
    this.root = root;
    this.find = (name) => root.querySelector(`[data-replay-${name}]`);
    this.video = this.find("video");
    this.knownDuration = Number(root.dataset.duration) || 0;
    this.pending = null;
    this.shownSecond = null;
    this.chapters = [...root.querySelectorAll("[data-chapter-start]")].map((button) => ({
      button,
      start: Number(button.dataset.chapterStart),
      end: Number(button.dataset.chapterEnd),
      title: button.querySelector(".chapter-title")?.textContent ?? "",
    }));
  }

  /** The recording's live captions, one <track> a language (the page's own shown). */
  async addCaptionTracks() {
    let found;
    try {
      found = await api(`/api/recordings/${this.root.dataset.recordingId}/captions`);
    } catch {
      return; // the replay plays on without them
    }
    const names = new Intl.DisplayNames([locale], { type: "language" });
    for (const { language, src } of found.tracks) {
      const track = document.createElement("track");
      Object.assign(track, { kind: "captions", srclang: language, src, label: names.of(language) ?? language });
      track.default = language === locale;
      track.dataset.replayCaptions = language;
      this.video.append(track);
    }
  }

  start() {
    this.addCaptionTracks();
    const languages = document.createElement("div");
    this.video.closest("figure, div")?.after(languages);
    mountReplayAudio(this.video, this.root.dataset.recordingId, languages);
    const { video } = this;
    video.addEventListener("loadedmetadata", () => this.metadataLoaded());
    // counted once per viewer and day for the organiser's figures (anonymously; no retry)
    video.addEventListener("play", () => {
      post(`/api/recordings/${this.root.dataset.recordingId}/plays`).catch(() => {});
    }, { once: true });
    for (const type of ["timeupdate", "seeked", "durationchange"]) video.addEventListener(type, () => this.showPosition());
    this.root.addEventListener("click", (event) => {
      const button = event.target.closest("[data-chapter-start], [data-seek]");
      if (!button) return;
      const seconds = Number(button.dataset.chapterStart ?? button.dataset.seek);
      this.seek(seconds, true);
      const title = button.querySelector(".chapter-title")?.textContent ?? "";
      this.say(title
        ? t("Playing from {time}: {chapter}.", { time: formatTime(seconds), chapter: title })
        : t("Playing from {time}.", { time: formatTime(seconds) }));
    });
    this.find("copy").addEventListener("click", () => this.copy());
    window.addEventListener("hashchange", () => this.followHash());
    this.followHash();
    this.showPosition();
  }

  duration() {
    const { duration } = this.video;
    return Number.isFinite(duration) && duration > 0 ? duration : this.knownDuration;
  }

  followHash() {
    const seconds = hashTime(window.location.hash);
    if (seconds !== null) this.seek(seconds, false);
  }

  /** Seek now if the video knows its timeline, else as soon as it does. */
  seek(seconds, play) {
    const length = this.duration();
    const target = Math.max(0, length ? Math.min(seconds, length) : seconds);
    if (this.video.readyState >= HAVE_METADATA) this.video.currentTime = target;
    else {
      this.pending = target;
      if (this.video.preload === "none") this.video.load();
    }
    if (play) this.play();
    this.showPosition(target);
  }

  metadataLoaded() {
    if (this.pending !== null) {
      this.video.currentTime = this.pending;
      this.pending = null;
    }
    this.showPosition();
  }

  play() {
    this.video.play().catch((error) => {
      // Refused by the browser's autoplay policy, or the file cannot be played here.
      if (error?.name === "AbortError") return;
      this.say(error?.name === "NotAllowedError"
        ? t("Press play on the video to start.")
        : t("This browser cannot play the recording: download it below."));
    });
  }

  /** The chapter and share link for the time ``at`` (else where the video is). */
  showPosition(at = null) {
    const now = at ?? (this.pending ?? this.video.currentTime);
    const chapter = this.chapters.findLast((item) => item.start <= now + 0.25);
    for (const item of this.chapters) {
      if (item === chapter) item.button.setAttribute("aria-current", "true");
      else item.button.removeAttribute("aria-current");
    }
    this.find("chapter").textContent = chapter ? chapter.title : "";
    this.find("now").hidden = !chapter;
    const second = Math.floor(now);
    if (second !== this.shownSecond) {
      this.shownSecond = second;
      this.showShare(second);
    }
  }

  shareUrl(second) {
    const { origin, pathname, search } = window.location;
    return `${origin}${pathname}${search}#t=${second}`;
  }

  showShare(second) {
    this.find("share").value = this.shareUrl(second);
    const link = this.find("share-link");
    link.href = `#t=${second}`;
    link.textContent = `#t=${second}`;
  }

  async copy() {
    const field = this.find("share");
    field.value = this.shareUrl(Math.floor(this.video.currentTime));
    try {
      await navigator.clipboard.writeText(field.value);
      this.say(t("Link copied."));
    } catch {
      field.focus();
      field.select();
      this.say(t("Press Ctrl+C (⌘C on a Mac) to copy the selected link."));
    }
  }

  say(message) {
    this.find("status").textContent = message;
  }
}

const root = document.querySelector("[data-replay]");
if (root) new Replay(root).start();
