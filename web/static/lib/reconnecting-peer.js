// One WebRTC connection to the server over WHIP or WHEP that keeps itself up: it offers
// through webrtc.js connect(), watches the connection's state, gives a "disconnected"
// connection a grace to come back by itself, offers again with growing waits after a drop
// (or when the server says when, by Retry-After), gives up after its last wait if told to,
// and ends the server's session with DELETE when stopped. The studio's publisher, the
// session page's player and the break-out room's publisher and watchers all use it; each
// keeps what is its own (what it shows, which tracks it sends, the player's HLS).
import { SignalingError, connect, disconnect, endSession } from "./webrtc.js";

/**
 * @typedef {"connecting" | "connected" | "reconnecting" | "failed"} PeerState
 * "failed": it gave up (its verdict said so, or its waits ran out) and is stopped.
 *
 * @typedef {object} Problem why the connection is not up
 * @property {"refused" | "unreachable" | "dropped" | "disconnected" | "gave-up"} kind
 *   refused: the offer got no answer (``error`` says why); unreachable: an answered offer
 *   whose connection never came up; dropped: a connection that was up went down;
 *   disconnected: it is down and has the grace to come back; gave-up: the waits ran out
 * @property {any} [error] the refusal: a SignalingError when the server answered
 * @property {"failed" | "disconnected" | "limit"} [after] what ended the connection: it
 *   failed, stayed disconnected through the grace, or did not connect in time
 * @property {boolean} wasConnected it has been connected since start()
 *
 * @typedef {number | "retry" | "stop" | "abandon"} Verdict what to do about a problem:
 *   offer again after that many milliseconds; offer again after the next wait ("retry");
 *   stop and DELETE the server's session ("stop"); stop and forget it, the server has
 *   ended it ("abandon")
 *
 * @typedef {object} PeerOptions
 * @property {(peer: RTCPeerConnection) => void} setUp add the transceivers and listeners
 * @property {(state: PeerState, problem: Problem | null) => void} report
 * @property {number[]} delays the waits before each new offer, in milliseconds
 * @property {boolean} [giveUp] after the last wait, give up (else keep the last wait)
 * @property {number} graceMs how long a "disconnected" connection gets to come back
 * @property {number} [connectLimitMs] an answered offer not connected by then is unreachable
 * @property {"release" | "hold" | "forget"} [dropped] the server's session of a connection
 *   that dropped: DELETE it (a viewer); hold it (a publication the server keeps paused,
 *   which the next offer resumes; stop and giving up DELETE it); forget it (the next
 *   publication replaces it)
 * @property {(problem: Problem) => Verdict} [verdict] defaults to ``defaultVerdict``
 * @property {(resource: string) => void} [answered] the server took an offer
 */

/** Worth offering again: the server could not be reached, or failed for now. */
export function isTransient(error) {
  return error instanceof SignalingError && (error.status === 0 || error.status >= 500);
}

/** Drops and transient refusals (and "nothing to watch yet") are retried; the rest stop.
 *  @param {Problem} problem
 *  @returns {Verdict} */
export function defaultVerdict({ kind, error }) {
  if (kind !== "refused") return "retry";
  return isTransient(error) || error?.code === "media.offline" ? "retry" : "stop";
}

export class ReconnectingPeer {
  /** @type {PeerState | "stopped"} */
  state = "stopped";
  #endpoint;
  /** @type {PeerOptions} */
  #options;
  /** @type {RTCPeerConnection | null} */
  #peer = null;
  /** The peer whose offer is out and not answered yet: only its answer can end it. */
  #offering = null;
  /** The server's URL of the session (a held one survives a drop). */
  #resource = null;
  #attempt = 0;
  #timer = null;
  #limit = null;
  #peerConnected = false;
  #wasConnected = false;
  /** Counts starts and stops: what an earlier one left waiting is not done. */
  #run = 0;

  /**
   * @param {string} endpoint the WHIP or WHEP URL to offer to
   * @param {PeerOptions} options
   */
  constructor(endpoint, options) {
    this.#endpoint = endpoint;
    this.#options = { dropped: "release", giveUp: false, verdict: defaultVerdict, ...options };
  }

  /** The current RTCPeerConnection, if any. */
  get peer() {
    return this.#peer;
  }

  /** The server's URL of the session, once an offer was answered. */
  get resource() {
    return this.#resource;
  }

  /** Connected at some point since start(). */
  get wasConnected() {
    return this.#wasConnected;
  }

  /** Offer; resolves once the first offer is answered or refused. */
  start() {
    this.#run += 1;
    clearTimeout(this.#timer);
    this.#peer?.close();
    this.#peer = null;
    this.#attempt = 0;
    this.#wasConnected = false;
    this.#report("connecting");
    return this.#offer();
  }

  /** Offer again now (the connection carries nothing it should): ends this one first. */
  reoffer() {
    const peer = this.#peer;
    if (!peer || peer === this.#offering) return;
    this.#attempt += 1;
    this.#drop(peer, false);
    this.#report("reconnecting", this.#problem("dropped"));
    this.#offer();
  }

  /** Stop: DELETE the server's session if ``release`` (else the server ends it itself). */
  async stop(release = true) {
    this.#run += 1;
    this.#clearTimers();
    const peer = this.#peer;
    const resource = release ? this.#resource : null;
    this.#peer = null;
    this.#resource = null;
    this.state = "stopped";
    if (peer && peer === this.#offering) await endSession(resource);
    else await disconnect(peer, resource);
  }

  #report(state, problem = null) {
    this.state = state;
    this.#options.report(state, problem);
  }

  #problem(kind, extra = {}) {
    return { kind, wasConnected: this.#wasConnected, ...extra };
  }

  #clearTimers() {
    clearTimeout(this.#timer);
    clearTimeout(this.#limit);
  }

  async #offer() {
    const peer = new RTCPeerConnection();
    this.#peer = peer;
    this.#offering = peer;
    this.#peerConnected = false;
    this.#options.setUp(peer);
    peer.addEventListener("connectionstatechange", () => this.#changed(peer));
    if (this.#options.connectLimitMs) {
      clearTimeout(this.#limit);
      this.#limit = setTimeout(() => {
        if (this.#peer === peer && !this.#peerConnected) this.#lost(peer, "limit");
      }, this.#options.connectLimitMs);
    }
    let resource;
    try {
      resource = await connect(peer, this.#endpoint);
    } catch (error) {
      peer.close();
      if (this.#peer !== peer) return;
      this.#peer = null;
      clearTimeout(this.#limit);
      return this.#refused(error);
    } finally {
      if (this.#offering === peer) this.#offering = null;
    }
    if (this.#peer !== peer) return disconnect(peer, resource); // stopped while the offer was out
    this.#resource = resource;
    this.#options.answered?.(resource);
  }

  async #refused(error) {
    if (
      this.#options.dropped === "hold" && this.#resource && error instanceof SignalingError
      && error.status === 409 && error.code !== "media.cut"
    ) {
      // The server may not have seen the dropped connection yet and still hold the session
      // for it: end that session, then offer again.
      const held = this.#resource;
      const run = this.#run;
      this.#resource = null;
      await endSession(held);
      if (run === this.#run) await this.#offer();
      return;
    }
    this.#decide(this.#problem("refused", { error }));
  }

  #changed(peer) {
    if (this.#peer !== peer) return;
    const state = peer.connectionState;
    if (state === "connected") {
      this.#clearTimers();
      this.#attempt = 0;
      this.#peerConnected = true;
      this.#wasConnected = true;
      this.#report("connected");
    } else if (state === "disconnected") {
      clearTimeout(this.#timer);
      this.#report("reconnecting", this.#problem("disconnected"));
      this.#timer = setTimeout(() => {
        if (this.#peer === peer && peer.connectionState !== "connected") this.#lost(peer, "disconnected");
      }, this.#options.graceMs);
    } else if (state === "failed") {
      this.#lost(peer, "failed");
    }
  }

  /** End a connection here, and on the server as ``dropped`` says. */
  #drop(peer, failed) {
    this.#clearTimers();
    this.#peer = null;
    const resource = this.#resource;
    if (this.#options.dropped !== "hold") this.#resource = null;
    // A failed connection has ended on the server too: nothing to DELETE.
    if (this.#options.dropped === "release" && !failed) disconnect(peer, resource);
    else peer.close();
  }

  #lost(peer, after) {
    const kind = this.#peerConnected ? "dropped" : "unreachable";
    this.#drop(peer, after === "failed");
    this.#decide(this.#problem(kind, { after }));
  }

  #decide(problem) {
    const run = this.#run;
    const verdict = this.#options.verdict(problem);
    if (run !== this.#run) return; // the verdict stopped or restarted it
    if (verdict === "stop" || verdict === "abandon") return this.#fail(problem, verdict === "stop");
    const delay = verdict === "retry" ? this.#nextDelay(problem) : verdict;
    if (delay === undefined) return this.#fail(this.#problem("gave-up", { error: problem.error }), true);
    this.#attempt += 1;
    this.#report("reconnecting", problem);
    this.#timer = setTimeout(() => this.#offer(), delay);
  }

  /** The wait before the next offer: none after a grace, the server's Retry-After, else the
   *  next of ``delays`` (undefined once they ran out, if it gives up then). */
  #nextDelay(problem) {
    const { delays, giveUp } = this.#options;
    const retryAfter = problem.error instanceof SignalingError ? problem.error.retryAfter : null;
    if (problem.after === "disconnected") return 0; // it had its grace already
    if (retryAfter) return retryAfter * 1000;
    return delays[this.#attempt] ?? (giveUp ? undefined : delays.at(-1));
  }

  #fail(problem, release) {
    const resource = this.#resource;
    this.#run += 1;
    this.#clearTimers();
    this.#resource = null;
    if (release) endSession(resource);
    this.#report("failed", problem);
  }
}
