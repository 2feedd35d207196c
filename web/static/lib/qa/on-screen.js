// What the moderator console shows under "On screen now": the highlighted question, with a
// button that takes it off the stage screen. Participant text is rendered as text only.
import { html } from "../html.js";
import { votes } from "./moderation.js";
import { t } from "../i18n.js";

/** The words this module's templates show, read when rendering (outside the templates,
 *  where the catalog's extractor finds them). */
const T = {
  get nothingHighlightALiveQuestion() { return t("Nothing. Highlight a live question to put it on the stage screen."); },
  get takeOffScreen() { return t("Take off screen"); },
};

/** ``question`` is the highlighted question, or null; ``onTakeOff(id)`` takes it off. */
export function OnScreen({ question, onTakeOff }) {
  if (!question) {
    return html`<p class="muted">${T.nothingHighlightALiveQuestion}</p>`;
  }
  return html`
    <p class="question-text">${question.text}</p>
    <p class="question-meta"><span>${question.author}</span><span class="vote-count">${votes(question.votes)}</span></p>
    <button type="button" class="secondary" data-unhighlight=${question.id} onClick=${() => onTakeOff(question.id)}>${T.takeOffScreen}</button>`;
}
