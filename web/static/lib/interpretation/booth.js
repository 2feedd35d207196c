// An interpreter's booth: hear the floor (the session's stream over WHEP), speak into the
// language's channel (the microphone over the booth's WHIP-style endpoint), and hand over.
// Who is on air comes from the session's live topic: when it is someone else, this booth's
// microphone is muted (it stays connected, so taking over is instant).
import { ApiError, post } from "../api.js";
import { LevelMeter } from "../audio-level.js";
import { html, render, useEffect, useRef, useState } from "../html.js";
import { t } from "../i18n.js";
import { pageRealtime } from "../realtime.js";
import { ReconnectingPeer } from "../reconnecting-peer.js";

const DELAYS_MS = [0, 1000, 2000, 5000, 10000, 20000];

/** Is ``me`` on air in ``language``, someone else, or nobody? */
export function airState(interpretation, language, me) {
  const channel = (interpretation ?? []).find((c) => c.language === language);
  if (!channel?.on_air) return "nobody";
  return channel.interpreter === me ? "me" : "other";
}

function Booth({ code, language, me }) {
  const floorVideo = useRef(null);
  const [inBooth, setInBooth] = useState(false);
  const [link, setLink] = useState("idle");
  const [air, setAir] = useState("nobody");
  const [error, setError] = useState("");
  const meter = useRef(null);
  const microphone = useRef(null);
  const publisher = useRef(null);

  useEffect(() => {
    const floor = new ReconnectingPeer(`/whep/${code}`, {
      setUp: (peer) => {
        peer.addTransceiver("audio", { direction: "recvonly" });
        peer.addTransceiver("video", { direction: "recvonly" });
        peer.addEventListener("track", (event) => {
          if (floorVideo.current) floorVideo.current.srcObject = event.streams[0];
        });
      },
      report: () => {},
      delays: DELAYS_MS,
      graceMs: 3000,
    });
    floor.start();
    pageRealtime().subscribe(`session:${code}:live`, {
      snapshot: (state) => setAir(airState(state.interpretation, language, me)),
      event: (changes) => {
        for (const change of changes) {
          if (change.type === "stream") setAir(airState(change.stream.interpretation, language, me));
        }
      },
    });
    const leave = () => { floor.stop(); publisher.current?.stop(); };
    window.addEventListener("pagehide", leave);
    return leave;
  }, [code, language, me]);

  useEffect(() => {
    if (inBooth && meter.current && microphone.current) new LevelMeter(meter.current).listen(microphone.current);
  }, [inBooth]);

  // Off air, the microphone sends silence: nobody hears two interpreters at once.
  useEffect(() => {
    for (const track of microphone.current?.getAudioTracks() ?? []) track.enabled = air === "me";
  }, [air, inBooth]);

  async function enter() {
    setError("");
    try {
      microphone.current = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true },
      });
    } catch {
      setError(t("The microphone could not be opened. Allow it in the browser and try again."));
      return;
    }
    const peer = new ReconnectingPeer(`/api/sessions/${code}/booths/${language}`, {
      setUp: (connection) => {
        for (const track of microphone.current.getAudioTracks()) connection.addTransceiver(track, { direction: "sendonly" });
      },
      report: (state) => setLink(state),
      dropped: "forget",
      delays: DELAYS_MS,
      graceMs: 3000,
    });
    publisher.current = peer;
    setInBooth(true);
    await peer.start();
  }

  async function takeOver() {
    setError("");
    try {
      await post(`/api/sessions/${code}/booths/${language}/take-over`);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : t("Could not take over. Try again."));
    }
  }

  async function leaveBooth() {
    await publisher.current?.stop();
    publisher.current = null;
    for (const track of microphone.current?.getTracks() ?? []) track.stop();
    microphone.current = null;
    setInBooth(false);
    setLink("idle");
  }

  const airText = { me: t("You are on air."), other: t("Your colleague is on air; your microphone is muted."), nobody: t("Nobody is on air.") }[air];
  return html`
    <div class="booth-layout">
      <section aria-labelledby="booth-floor-heading">
        <h2 id="booth-floor-heading">${t("The floor")}</h2>
        <video ref=${floorVideo} autoplay playsinline data-booth-floor aria-label=${t("The floor: the session's stream")}></video>
      </section>
      <section aria-labelledby="booth-air-heading">
        <h2 id="booth-air-heading">${t("Your channel")}</h2>
        <p class=${`booth-air booth-air-${air}`} role="status" data-booth-air=${air}>${airText}</p>
        ${inBooth && html`
          <p><label for="booth-level">${t("Microphone level")}</label>
            <meter id="booth-level" ref=${meter} min="0" max="1" value="0" data-booth-level></meter></p>
          <p class="muted" data-booth-link=${link}>${link === "connected" ? t("Connected to the booth.") : t("Connecting to the booth…")}</p>`}
        <p class="booth-actions">
          ${!inBooth && html`<button type="button" onClick=${enter} data-booth-enter>${t("Enter the booth")}</button>`}
          ${inBooth && air !== "me" && html`<button type="button" onClick=${takeOver} data-booth-take-over disabled=${link !== "connected"}>${t("Take over")}</button>`}
          ${inBooth && html`<button type="button" class="secondary" onClick=${leaveBooth} data-booth-leave>${t("Leave the booth")}</button>`}
        </p>
        ${error && html`<p class="error" role="alert">${error}</p>`}
      </section>
    </div>`;
}

export function mountBooth(root) {
  const { sessionCode, language, participantId } = root.dataset;
  render(html`<${Booth} code=${sessionCode} language=${language} me=${participantId} />`, root.querySelector("[data-booth-app]"));
}
