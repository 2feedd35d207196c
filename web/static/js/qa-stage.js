// The projector view: the highlighted question, large, live over the public Q&A topic.
import { HighlightView, followHighlight, qaTopic } from "../lib/qa/highlight.js";
import { t } from "../lib/i18n.js";

class Stage extends HighlightView {
  start() {
    this.listen({ [qaTopic(this.code)]: followHighlight((question) => this.show(question)) });
  }

  showConnection(status) {
    const label = this.find("connection");
    label.hidden = status === "live";
    label.textContent = status === "live" ? "" : t("Reconnecting…");
  }
}

const root = document.querySelector("[data-qa-stage]");
if (root) new Stage(root).start();
