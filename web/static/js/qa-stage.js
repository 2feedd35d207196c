// The projector view: the highlighted question, large, live over the public Q&A topic.
import { HighlightView, followHighlight, qaTopic } from "../lib/qa/highlight.js";

class Stage extends HighlightView {
  start() {
    this.listen({ [qaTopic(this.code)]: followHighlight((question) => this.show(question)) });
  }

  showConnection(status) {
    const label = this.find("connection");
    label.hidden = status === "live";
    label.textContent = status === "live" ? "" : "Reconnecting…";
  }
}

const root = document.querySelector("[data-qa-stage]");
if (root) new Stage(root).start();
