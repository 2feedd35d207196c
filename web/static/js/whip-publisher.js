// One publication over WHIP from the studio: go live, keep it up when the connection drops
// (it offers again by itself, as OBS reconnects), stop. It reports each state it enters.
import { PUBLICATION_STATES } from "./publication-states.js";
import { SignalingError, connect, disconnect, endSession } from "./webrtc.js";

/** How long a connection that went "disconnected" gets to come back by itself. */
const RECOVERY_MS = 3000;
/** The waits before each new offer after a drop; after the last, it gives up. */
const RETRY_DELAYS_MS = [0, 1000, 2000, 5000, 10000, 20000, 30000];

/** Worth offering again: the server could not be reached, or failed for now. */
function isTransient(error) {
  return error instanceof SignalingError && (error.status === 0 || error.status >= 500);
}

export class WhipPublisher {
  /** @type {import("./publication-states.js").PublicationState} */
  state = "preview";
  #endpoint;
  #report;
  /** @type {MediaStream | null} */
  #stream = null;
  /** @type {RTCPeerConnection | null} */
  #peer = null;
  /** The peer whose offer is out and not answered yet: only its answer can end it. */
  #offering = null;
  /** The server's URL of this publication. Kept through a drop: the server holds the
   *  session paused for it, and the next offer resumes it. */
  #resource = null;
  #retries = 0;
  #timer = null;
  #wasLive = false;
  #rehearsal = false;
  /** Counts go-lives and stops: what an earlier one left waiting is not done. */
  #run = 0;

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
    this.#run += 1;
    this.#rehearsal = rehearsal;
    this.#stream = stream;
    this.#retries = 0;
    this.#wasLive = false;
    this.#set("connecting");
    await this.#offer();
  }

  /** Send ``stream``'s tracks from now on (the speaker picked another camera or microphone). */
  async use(stream) {
    this.#stream = stream;
    for (const sender of this.#peer?.getSenders() ?? []) {
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
    this.#run += 1;
    clearTimeout(this.#timer);
    const peer = this.#peer;
    const resource = this.#resource;
    this.#peer = null;
    this.#resource = null;
    if (peer && peer === this.#offering) await endSession(resource);
    else await disconnect(peer, resource);
  }

  #set(state, problem = "") {
    this.state = state;
    this.#report(state, problem);
  }

  async #offer() {
    const peer = new RTCPeerConnection();
    for (const track of this.#stream.getTracks()) peer.addTransceiver(track, { direction: "sendonly" });
    peer.addEventListener("connectionstatechange", () => this.#changed(peer));
    this.#peer = peer;
    this.#offering = peer;
    let resource;
    try {
      resource = await connect(peer, this.#rehearsal ? `${this.#endpoint}?rehearsal=1` : this.#endpoint);
    } catch (error) {
      peer.close();
      if (this.#peer !== peer) return;
      this.#peer = null;
      return this.#refused(error);
    } finally {
      if (this.#offering === peer) this.#offering = null;
    }
    if (this.#peer !== peer) return disconnect(peer, resource); // stopped while the offer was out
    this.#resource = resource;
  }

  async #refused(error) {
    const status = error instanceof SignalingError ? error.status : null;
    if (error instanceof SignalingError && error.code === "media.cut") {
      this.#resource = null; // a moderator ended it: no reconnecting until they let speakers back
      return this.#set("cut");
    }
    if (status === 409 && this.#resource) {
      // The server may not have seen this studio's dropped connection yet and still hold the
      // session for it: end that publication, then offer again.
      const dropped = this.#resource;
      const run = this.#run;
      this.#resource = null;
      await endSession(dropped);
      if (run === this.#run) await this.#offer();
      return;
    }
    if (status === 409) return this.#set("refused");
    if (this.state === "reconnecting" && isTransient(error)) return this.#retry();
    this.#set(this.#wasLive ? "stopped" : "preview", `Could not go live: ${error.message}`);
  }

  #changed(peer) {
    if (this.#peer !== peer) return;
    const state = peer.connectionState;
    if (state === "connected") {
      clearTimeout(this.#timer);
      this.#retries = 0;
      this.#wasLive = true;
      this.#set(this.#rehearsal ? "rehearsing" : "live");
    } else if (state === "disconnected" && this.#wasLive) {
      this.#set("reconnecting");
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.#dropped(), RECOVERY_MS);
    } else if (state === "failed" && this.#wasLive) {
      this.#dropped();
    } else if (state === "failed") {
      this.#end().then(() =>
        this.#set("preview", "Could not go live: no media connection to the server (is UDP blocked?)."),
      );
    }
  }

  /** The connection is gone: offer again, while the server holds the session paused. */
  #dropped() {
    clearTimeout(this.#timer);
    const peer = this.#peer;
    this.#peer = null;
    peer?.close();
    this.#set("reconnecting");
    this.#retry();
  }

  #retry() {
    const delay = RETRY_DELAYS_MS[this.#retries++];
    if (delay === undefined) {
      const resource = this.#resource;
      this.#resource = null;
      endSession(resource);
      return this.#set("stopped", "The connection to the server was lost and could not be restored. Go live again.");
    }
    this.#timer = setTimeout(() => this.#offer(), delay);
  }
}
