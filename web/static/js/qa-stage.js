// The projector view: the highlighted question, large, live over the public Q&A topic.
// Participant text goes into the page with textContent, never as HTML.
import { QAPanel } from "./qa-panel.js";

function lengthClass(text) {
  const length = [...text].length;
  if (length > 280) return "long";
  return length > 140 ? "medium" : "short";
}

class Stage extends QAPanel {
  constructor(root) {
    super(root);
    this.question = null;
  }

  start() {
    this.listen({
      [`session:${this.code}:qa`]: {
        snapshot: (state) => this.show(state.questions.find((q) => q.id === state.highlighted) ?? null),
        event: (changes) => changes.forEach((change) => this.apply(change)),
      },
    });
  }

  apply(change) {
    const id = this.question?.id;
    if (change.type === "highlight") this.show(change.question);
    else if (change.type === "question" && change.question.id === id) this.show(change.question);
    else if (change.type === "votes" && id && id in change.votes) this.show({ ...this.question, votes: change.votes[id] });
  }

  show(question) {
    this.question = question;
    this.root.classList.toggle("has-question", Boolean(question));
    this.find("question").hidden = !question;
    this.find("idle").hidden = Boolean(question);
    if (!question) return;
    const text = this.find("text");
    text.textContent = question.text;
    text.dataset.length = lengthClass(question.text);
    this.find("author").textContent = question.author;
    const speaker = this.speakers.get(question.addressed_to);
    this.find("for").hidden = !speaker;
    this.find("for").textContent = speaker ? `for ${speaker}` : "";
    this.find("votes").textContent = `${question.votes} vote${question.votes === 1 ? "" : "s"}`;
  }

  showConnection(status) {
    const label = this.find("connection");
    label.hidden = status === "live";
    label.textContent = status === "live" ? "" : "Reconnecting…";
  }
}

const root = document.querySelector("[data-qa-stage]");
if (root) new Stage(root).start();
