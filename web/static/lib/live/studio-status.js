// What the studio says: the state of this studio's own publication, and apart from it what
// the session's live topic says of the session's stream (which may be another speaker's).
import { PUBLICATION_STATES } from "./publication-states.js";
import { nt, t } from "../i18n.js";

/**
 * @typedef {import("./publication-states.js").PublicationState} PublicationState
 * @typedef {{ state: string, started_at: string | null, viewers: number, rehearsal?: boolean, cut?: boolean, off_record?: boolean, audio_only?: boolean }} StreamState
 *   the session's stream, as its live topic tells it
 */

/** What the studio says of another speaker's stream, by its state. */
function othersStream(state) {
  if (state === "live") return t("Another speaker is live on this session.");
  if (state === "paused") return t("Another speaker's stream on this session is paused.");
  return undefined;
}

/** The start of a stream that is on (live or paused), else null: it names the stream. */
function startOf(stream) {
  return stream && stream.state !== "offline" ? stream.started_at : null;
}

export class StudioStatus {
  /** @type {PublicationState} */
  #own = "preview";
  /** @type {StreamState | null} */
  #stream = null;
  /** The start of the stream this studio publishes or last published. */
  #ownStart = null;
  /** The start of the session's stream when this studio last set out to go live. */
  #startBeforeOffer = null;

  /**
   * @param {Record<"badge" | "state" | "session" | "viewers", HTMLElement>
   *   & Record<"start" | "rehearse" | "stop", HTMLButtonElement>} parts
   */
  constructor(parts) {
    this.parts = parts;
  }

  /** @param {PublicationState} own */
  showPublication(own) {
    if (own === "connecting" && !PUBLICATION_STATES[this.#own].publishing) this.#startBeforeOffer = startOf(this.#stream);
    if (own === "refused") this.#ownStart = null;
    this.#own = own;
    this.#remember();
    this.#render();
  }

  /** @param {StreamState} stream */
  showStream(stream) {
    this.#stream = stream;
    this.#remember();
    this.#render();
  }

  /** Only one publisher is live per session: while this studio is on air, the stream is its. */
  #remember() {
    const start = startOf(this.#stream);
    if (start && PUBLICATION_STATES[this.#own].onAir) this.#ownStart = start;
  }

  /** Whose the session's stream is: "none", "own" (also this studio's stream still
   *  ending after Stop) or "other". */
  #owner() {
    const start = startOf(this.#stream);
    if (!start) return "none";
    if (start === this.#ownStart || PUBLICATION_STATES[this.#own].onAir) return "own";
    // A stream that came on after this studio's offer went out is, as far as it can tell, its own.
    if (this.#own === "connecting" && start !== this.#startBeforeOffer) return "own";
    return "other";
  }

  #render() {
    const owner = this.#owner();
    // Refused while someone else published; once they stop, this studio is simply not live.
    const own = this.#own === "refused" && owner === "none" ? "preview" : this.#own;
    const look = PUBLICATION_STATES[own];
    const { badge, state, session, viewers, start, rehearse, stop } = this.parts;
    badge.textContent = look.badge;
    badge.className = `badge badge-${look.tone}`;
    state.textContent = look.text;
    const rehearsing = this.#stream?.rehearsal && this.#stream.state === "live";
    const others = rehearsing ? t("Another speaker is rehearsing on this session.") : othersStream(this.#stream?.state);
    const notes = [];
    if (owner === "other" && others) notes.push(others);
    if (this.#stream?.off_record) notes.push(t("Off the record: remote viewers see a slate and hear nothing, and nothing is recorded. Keep going for the hall."));
    else if (this.#stream?.audio_only) notes.push(t("Audio only: someone on stage agreed to be heard, not seen. No video leaves the hall."));
    session.textContent = notes.join(" ");
    viewers.textContent = owner === "own" && look.onAir ? nt("{count} watching", "{count} watching", this.#stream.viewers) : "";
    start.disabled = look.publishing;
    rehearse.disabled = look.publishing;
    stop.disabled = !look.publishing;
  }
}
