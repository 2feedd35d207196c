// Reads QR codes from a camera: the rear camera when there is one, frames drawn to a canvas a
// few times a second and decoded by jsQR (vendored unaltered, loaded on first use: its UMD
// build sets self.jsQR when run as a module). Calls onCode(text) for each code seen, at most
// once per code every few seconds, so a ticket held up keeps being one scan.

const JSQR_URL = "/static/vendor/jsqr/jsQR.js";
const SCANS_PER_SECOND = 8;
const SAME_CODE_PAUSE_MS = 4000;
const MAX_SIDE = 720;

let decoder = null;

async function loadDecoder() {
  if (!decoder) {
    await import(JSQR_URL);
    decoder = /** @type {any} */ (globalThis).jsQR;
    if (typeof decoder !== "function") throw new Error("jsQR did not load");
  }
  return decoder;
}

/** Whether this browser can offer a camera at all (a secure context with media devices). */
export function cameraAvailable() {
  return Boolean(navigator.mediaDevices?.getUserMedia);
}

export class Scanner {
  /**
   * @param {HTMLVideoElement} video
   * @param {(code: string) => void} onCode
   */
  constructor(video, onCode) {
    this.video = video;
    this.onCode = onCode;
    this.canvas = document.createElement("canvas");
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
    this.stream = null;
    this.timer = 0;
    this.last = { code: "", at: 0 };
  }

  async start() {
    const decode = await loadDecoder();
    this.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
      audio: false,
    });
    this.video.srcObject = this.stream;
    await this.video.play();
    const scan = () => {
      this.scanOnce(decode);
      this.timer = window.setTimeout(scan, 1000 / SCANS_PER_SECOND);
    };
    scan();
  }

  scanOnce(decode) {
    const { video, canvas, context } = this;
    if (!context || video.readyState < video.HAVE_CURRENT_DATA || !video.videoWidth) return;
    const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    const found = decode(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
    const code = found?.data?.trim();
    if (!code) return;
    const now = Date.now();
    if (code === this.last.code && now - this.last.at < SAME_CODE_PAUSE_MS) return;
    this.last = { code, at: now };
    this.onCode(code);
  }

  stop() {
    window.clearTimeout(this.timer);
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    this.video.srcObject = null;
  }

  get running() {
    return this.stream !== null;
  }
}
