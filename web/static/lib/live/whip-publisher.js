// One publication over WHIP from the studio: go live, keep it up when the connection drops
// (it offers again by itself, as OBS reconnects, through reconnecting-peer.js), stop. It
// reports each state it enters.
import { PUBLICATION_STATES } from "./publication-states.js";
import { ReconnectingPeer, isTransient } from "../reconnecting-peer.js";
import { SignalingError } from "../webrtc.js";
import { t } from "../i18n.js";

/** How long a connection that went "disconnected" gets to come back by itself. */
const RECOVERY_MS = 3000;
/** The waits before each new offer after a drop; after the last, it gives up. */
const RETRY_DELAYS_MS = [0, 1000, 2000, 5000, 10000, 20000, 30000];

export class WhipPublisher {
  /** @type {import("./publication-states.js").PublicationState} */
  state = "preview";
  #endpoint;
  #report;
  /** @type {MediaStream | null} */
  #stream = null;
  /** @type {ReconnectingPeer | null} */
  #link = null;
  #rehearsal = false;

  /**
   * @param {string} endpoint the WHIP URL
   * @param {(state: import("./publication-states.js").PublicationState, problem: string) => void} report
   */
  constructor(endpoint, report) {
    this.#endpoint = endpoint;
    this.#report = report;
  }

  /**
   * @param {MediaStream} stream
   * @param {{ rehearsal?: boolean }} options a rehearsal: seen by the session's moderators
   *   and speakers only, never recorded
   */
  async goLive(stream, { rehearsal = false } = {}) {
    this.#rehearsal = rehearsal;
    this.#stream = stream;
    await this.#link?.stop();
    const link = new ReconnectingPeer(rehearsal ? `${this.#endpoint}?rehearsal=1` : this.#endpoint, {
      setUp: (peer) => {
        for (const track of this.#stream.getTracks()) peer.addTransceiver(track, { direction: "sendonly" });
      },
      // The server holds a dropped publication paused: the next offer resumes it.
      dropped: "hold",
      delays: RETRY_DELAYS_MS,
      giveUp: true,
      graceMs: RECOVERY_MS,
      verdict: ({ kind, error, wasConnected }) => {
        if (kind !== "refused") return wasConnected ? "retry" : "stop";
        if (error instanceof SignalingError && error.code === "media.cut") return "abandon"; // ended there
        return wasConnected && isTransient(error) ? "retry" : "stop";
      },
      report: (state, problem) => {
        if (this.#link === link) this.#changed(link, state, problem);
      },
    });
    this.#link = link;
    this.#set("connecting");
    await link.start();
  }

  /** Send ``stream``'s tracks from now on (the speaker picked another camera or microphone). */
  async use(stream) {
    this.#stream = stream;
    for (const sender of this.#link?.peer?.getSenders() ?? []) {
      const track = stream.getTracks().find((t) => t.kind === sender.track?.kind);
      if (track) await sender.replaceTrack(track);
    }
  }

  /** A moderator ended the stream: end here too, and do not reconnect. */
  async cut() {
    if (!PUBLICATION_STATES[this.state].publishing) return;
    await this.#end();
    this.#set("cut");
  }

  async stop() {
    const { publishing } = PUBLICATION_STATES[this.state];
    await this.#end();
    if (publishing) this.#set("stopped");
  }

  /** End the publication on the server and here, saying nothing yet. */
  async #end() {
    const link = this.#link;
    this.#link = null;
    await link?.stop();
  }

  #set(state, problem = "") {
    this.state = state;
    this.#report(state, problem);
  }

  #changed(link, state, problem) {
    if (state === "connected") {
      this.#set(this.#rehearsal ? "rehearsing" : "live");
    } else if (state === "reconnecting") {
      if (link.wasConnected) this.#set("reconnecting");
    } else if (state === "failed") {
      this.#link = null;
      const { kind, error } = problem;
      if (kind === "gave-up") {
        this.#set("stopped", t("The connection to the server was lost and could not be restored. Go live again."));
      } else if (kind !== "refused") {
        this.#set("preview", t("Could not go live: no media connection to the server (is UDP blocked?)."));
      } else if (error instanceof SignalingError && error.code === "media.cut") {
        this.#set("cut"); // a moderator ended it: no reconnecting until they let speakers back
      } else if (error instanceof SignalingError && error.status === 409) {
        this.#set("refused");
      } else {
        this.#set(link.wasConnected ? "stopped" : "preview", t("Could not go live: {reason}", { reason: error.message }));
      }
    }
  }
}
