// The question a session's moderators put on screen, followed over the public Q&A topic:
// the projector stage shows it to the room, the studio to the speaker.
// Participant text goes into the page with textContent, never as HTML.
import { QAPanel } from "./panel.js";
import { nt, t } from "../i18n.js";

/** The public Q&A topic of session ``code``. */
export function qaTopic(code) {
  return `session:${code}:qa`;
}

/** How long a question reads: short, medium or long (the stage sizes its type by it). */
export function lengthClass(text) {
  const length = [...text].length;
  if (length > 280) return "long";
  return length > 140 ? "medium" : "short";
}

/** Handlers for the public Q&A topic (see ``Realtime.subscribe``) that call
 *  ``show(question)`` with the highlighted question, or null, whenever it, its text or its
 *  votes change. */
export function followHighlight(show) {
  let question = null;
  const showing = (next) => {
    question = next;
    show(next);
  };
  const apply = (change) => {
    const id = question?.id;
    if (change.type === "highlight") showing(change.question);
    else if (change.type === "question" && change.question.id === id) showing(change.question);
    else if (change.type === "votes" && id && id in change.votes) showing({ ...question, votes: change.votes[id] });
  };
  return {
    snapshot: (state) => showing(state.questions.find((q) => q.id === state.highlighted) ?? null),
    event: (changes) => changes.forEach(apply),
  };
}

/** The highlighted question under ``root``, in its data-qa-question (text, author, for,
 *  votes) part, or its data-qa-idle part while nothing is on screen. */
export class HighlightView extends QAPanel {
  show(question) {
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
    this.find("for").textContent = speaker ? t("for {speaker}", { speaker }) : "";
    this.find("votes").textContent = nt("{count} vote", "{count} votes", question.votes);
  }
}
