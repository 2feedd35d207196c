import { pageRealtime } from "../realtime.js";
import { t } from "../i18n.js";

// What every Q&A view shares: finding its parts, the session's speakers, and feedback.

/** The connection label's words for each state. */
function connectionText(state) {
  switch (state) {
    case "live": return t("Live");
    case "closed": return t("Questions closed");
    case "reconnecting": return t("Reconnecting…");
    default: return t("Connecting…");
  }
}

export class QAPanel {
  constructor(root) {
    this.root = root;
    this.code = root.dataset.sessionCode;
    this.find = (name) => root.querySelector(`[data-qa-${name}]`);
    this.connection = null;
    this.questionsOpen = true;
    this.speakers = new Map(
      [...(this.find("speakers")?.content.querySelectorAll("[data-key]") ?? [])].map(
        (item) => [item.dataset.key, item.textContent],
      ),
    );
  }

  /** Subscribe to ``topics`` ({name: {snapshot, event}}) on the page's reconnecting socket. */
  listen(topics) {
    const realtime = pageRealtime();
    realtime.onStatus((status) => this.showConnection(status));
    for (const [topic, handlers] of Object.entries(topics)) {
      realtime.subscribe(topic, { error: (error) => this.showError(error.message), ...handlers });
    }
  }

  showConnection(status) {
    this.connection = status;
    this.renderConnection();
  }

  /** A connected panel is live only while questions are open. */
  showQuestionsOpen(open) {
    this.questionsOpen = open;
    this.renderConnection();
  }

  renderConnection() {
    if (this.connection === null) return;
    const state = this.connection === "live" && !this.questionsOpen ? "closed" : this.connection;
    const label = this.find("connection");
    label.hidden = false;
    label.dataset.state = state;
    label.textContent = connectionText(state);
  }

  showError(message) {
    if (!this.find("error")) return;
    this.find("status").textContent = "";
    this.find("error").textContent = message;
  }

  showStatus(message) {
    this.find("error").textContent = "";
    this.find("status").textContent = message;
  }

  announce(message) {
    this.find("announce").textContent = message;
  }
}
