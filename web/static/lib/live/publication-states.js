// The states of the studio's own publication and how each shows. A new state (a rehearsal,
// say) is one more entry here. The words are getters: read in the page's language.
import { t } from "../i18n.js";

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
  preview: { get badge() { return t("Preview"); }, tone: "upcoming", get text() { return t("Preview: you are not live."); }, publishing: false, onAir: false },
  connecting: { get badge() { return t("Connecting"); }, tone: "upcoming", get text() { return t("Connecting…"); }, publishing: true, onAir: false },
  live: { get badge() { return t("Live"); }, tone: "live", get text() { return t("You are live."); }, publishing: true, onAir: true },
  rehearsing: {
    get badge() { return t("Rehearsal"); },
    tone: "paused",
    get text() { return t("Rehearsing: only this session’s moderators and speakers see you, and nothing is recorded."); },
    publishing: true,
    onAir: true,
  },
  reconnecting: {
    get badge() { return t("Reconnecting"); },
    tone: "paused",
    get text() { return t("Connection lost. Reconnecting…"); },
    publishing: true,
    onAir: true,
  },
  stopped: { get badge() { return t("Offline"); }, tone: "upcoming", get text() { return t("Stopped: you are offline."); }, publishing: false, onAir: false },
  cut: {
    get badge() { return t("Ended"); },
    tone: "upcoming",
    get text() { return t("A moderator ended your stream. They can let you back on from the moderator console."); },
    publishing: false,
    onAir: false,
  },
  refused: {
    get badge() { return t("Not live"); },
    tone: "upcoming",
    get text() { return t("Someone else is publishing on this session, so you are not live."); },
    publishing: false,
    onAir: false,
  },
};
