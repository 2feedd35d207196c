// The studio: pick a camera and microphone, preview them with a level meter, and publish
// over WHIP; the session's live topic tells the viewer count and whether someone else is
// live, the public Q&A topic the question on screen (both over the page's one socket).
import { LevelMeter } from "../lib/audio-level.js";
import { HighlightView, followHighlight, qaTopic } from "../lib/qa/highlight.js";
import { pageRealtime } from "../lib/realtime.js";
import { StudioStatus } from "../lib/live/studio-status.js";
import { WhipPublisher } from "../lib/live/whip-publisher.js";
import { t } from "../lib/i18n.js";

/** The session's stream state and viewer count, as its speakers see it (a rehearsal too). */
const streamTopic = (code) => `session:${code}:studio`;

class Studio {
  constructor(root) {
    this.root = root;
    this.code = root.dataset.sessionCode;
    this.find = (name) => root.querySelector(`[data-studio-${name}]`);
    this.stream = null;
    this.status = new StudioStatus({
      badge: this.find("badge"),
      state: this.find("state"),
      session: this.find("session"),
      viewers: this.find("viewers"),
      start: this.find("start"),
      rehearse: this.find("rehearse"),
      stop: this.find("stop"),
    });
    this.publisher = new WhipPublisher(root.dataset.whip, (state, problem) => this.onPublication(state, problem));
    this.meter = new LevelMeter(this.find("level"));
    this.question = new HighlightView(this.find("question"));
  }

  async start() {
    this.find("camera").addEventListener("change", () => this.preview());
    this.find("microphone").addEventListener("change", () => this.preview());
    this.find("start").addEventListener("click", () => this.goLive());
    this.find("rehearse").addEventListener("click", () => this.goLive({ rehearsal: true }));
    this.find("stop").addEventListener("click", () => this.publisher.stop());
    window.addEventListener("pagehide", () => this.publisher.stop());
    pageRealtime()
      .subscribe(streamTopic(this.code), {
        snapshot: (stream) => this.showStream(stream),
        event: (changes) => {
          for (const change of changes) if (change.type === "stream") this.showStream(change.stream);
        },
      })
      .subscribe(qaTopic(this.code), followHighlight((question) => this.question.show(question)));
    await this.preview();
    await this.listDevices();
  }

  showStream(stream) {
    this.status.showStream(stream);
    if (stream.cut) this.publisher.cut();
  }

  say(text) {
    this.find("error").textContent = "";
    this.find("status").textContent = text;
  }

  fail(text) {
    this.find("status").textContent = "";
    this.find("error").textContent = text;
  }

  onPublication(state, problem) {
    this.status.showPublication(state);
    if (problem) this.fail(problem);
    else if (state === "connecting") this.find("error").textContent = "";
  }

  async listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    for (const [kind, select] of [["videoinput", this.find("camera")], ["audioinput", this.find("microphone")]]) {
      const current = this.stream?.getTracks().find((t) => `${t.kind}input` === kind)?.getSettings().deviceId;
      select.replaceChildren(
        ...devices
          .filter((device) => device.kind === kind)
          .map((device, index) => new Option(device.label || (kind === "videoinput" ? t("Camera {n}", { n: index + 1 }) : t("Microphone {n}", { n: index + 1 })), device.deviceId, false, device.deviceId === current)),
      );
    }
  }

  async preview() {
    const camera = this.find("camera").value;
    const microphone = this.find("microphone").value;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: camera ? { deviceId: { exact: camera } } : { width: 1280, height: 720 },
        audio: microphone ? { deviceId: { exact: microphone } } : true,
      });
      this.stream?.getTracks().forEach((track) => track.stop());
      this.stream = stream;
      this.find("preview").srcObject = stream;
      this.meter.listen(stream);
      await this.publisher.use(stream);
      this.say(t("Camera and microphone ready."));
    } catch (error) {
      this.fail(t("No access to the camera or microphone: {reason}", { reason: error.message }));
    }
  }

  async goLive(options = {}) {
    if (!this.stream) return this.fail(t("Choose a camera first."));
    await this.publisher.goLive(this.stream, options);
  }
}

const root = document.querySelector("[data-studio]");
if (root) new Studio(root).start();
