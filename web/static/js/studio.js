// The studio: pick a camera and microphone, preview them, and publish over WHIP.
import { connect, disconnect } from "./webrtc.js";

class Studio {
  constructor(root) {
    this.root = root;
    this.endpoint = root.dataset.whip;
    this.find = (name) => root.querySelector(`[data-studio-${name}]`);
    this.stream = null;
    this.peer = null;
    this.resource = null;
  }

  async start() {
    this.find("camera").addEventListener("change", () => this.preview());
    this.find("microphone").addEventListener("change", () => this.preview());
    this.find("start").addEventListener("click", () => this.goLive());
    this.find("stop").addEventListener("click", () => this.stop());
    window.addEventListener("pagehide", () => this.stop());
    await this.preview();
    await this.listDevices();
  }

  say(text) {
    this.find("error").textContent = "";
    this.find("status").textContent = text;
  }

  fail(text) {
    this.find("status").textContent = "";
    this.find("error").textContent = text;
  }

  async listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    for (const [kind, select] of [["videoinput", this.find("camera")], ["audioinput", this.find("microphone")]]) {
      const current = this.stream?.getTracks().find((t) => `${t.kind}input` === kind)?.getSettings().deviceId;
      select.replaceChildren(
        ...devices
          .filter((device) => device.kind === kind)
          .map((device, index) => new Option(device.label || `${kind === "videoinput" ? "Camera" : "Microphone"} ${index + 1}`, device.deviceId, false, device.deviceId === current)),
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
      if (this.peer) {
        for (const sender of this.peer.getSenders()) {
          const track = stream.getTracks().find((t) => t.kind === sender.track?.kind);
          if (track) await sender.replaceTrack(track);
        }
      }
      this.say("Camera and microphone ready.");
    } catch (error) {
      this.fail(`No access to the camera or microphone: ${error.message}`);
    }
  }

  showLive(live) {
    const badge = this.find("badge");
    badge.textContent = live ? "Live" : "Offline";
    badge.className = `badge badge-${live ? "live" : "upcoming"}`;
    this.find("start").disabled = live;
    this.find("stop").disabled = !live;
  }

  async goLive() {
    if (!this.stream) return this.fail("Choose a camera first.");
    this.find("start").disabled = true;
    this.say("Going live…");
    const peer = new RTCPeerConnection();
    this.peer = peer;
    for (const track of this.stream.getTracks()) peer.addTransceiver(track, { direction: "sendonly" });
    peer.addEventListener("connectionstatechange", () => {
      if (this.peer !== peer) return;
      if (peer.connectionState === "connected") {
        this.showLive(true);
        this.say("You are live.");
      } else if (["failed", "disconnected"].includes(peer.connectionState)) {
        this.fail("The connection to the server was lost. Go live again.");
        this.stop();
      }
    });
    try {
      this.resource = await connect(peer, this.endpoint);
    } catch (error) {
      this.fail(`Could not go live: ${error.message}`);
      await this.stop();
    }
  }

  async stop() {
    const { peer, resource } = this;
    this.peer = null;
    this.resource = null;
    await disconnect(peer, resource);
    this.showLive(false);
  }
}

const root = document.querySelector("[data-studio]");
if (root) new Studio(root).start();
