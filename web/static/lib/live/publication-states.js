// The states of the studio's own publication and how each shows. A new state (a rehearsal,
// say) is one more entry here.

/**
 * @typedef {"preview" | "connecting" | "live" | "rehearsing" | "reconnecting" | "stopped" | "refused" | "cut"} PublicationState
 * @typedef {object} PublicationLook
 * @property {string} badge the badge's word
 * @property {string} tone the badge's colour: badge-<tone>
 * @property {string} text what the studio says of it
 * @property {boolean} publishing there is something to stop: Stop is on, Go live off
 * @property {boolean} onAir the session's stream is this studio's
 */

/** @type {Record<PublicationState, PublicationLook>} */
export const PUBLICATION_STATES = {
  preview: { badge: "Preview", tone: "upcoming", text: "Preview: you are not live.", publishing: false, onAir: false },
  connecting: { badge: "Connecting", tone: "upcoming", text: "Connecting…", publishing: true, onAir: false },
  live: { badge: "Live", tone: "live", text: "You are live.", publishing: true, onAir: true },
  rehearsing: {
    badge: "Rehearsal",
    tone: "paused",
    text: "Rehearsing: only this session’s moderators and speakers see you, and nothing is recorded.",
    publishing: true,
    onAir: true,
  },
  reconnecting: {
    badge: "Reconnecting",
    tone: "paused",
    text: "Connection lost. Reconnecting…",
    publishing: true,
    onAir: true,
  },
  stopped: { badge: "Offline", tone: "upcoming", text: "Stopped: you are offline.", publishing: false, onAir: false },
  cut: {
    badge: "Ended",
    tone: "upcoming",
    text: "A moderator ended your stream. They can let you back on from the moderator console.",
    publishing: false,
    onAir: false,
  },
  refused: {
    badge: "Not live",
    tone: "upcoming",
    text: "Someone else is publishing on this session, so you are not live.",
    publishing: false,
    onAir: false,
  },
};
