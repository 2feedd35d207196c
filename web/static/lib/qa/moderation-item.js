// One question in the moderator console's queue: its text, what is known about it, the
// actions its state offers and, below them, the edit or merge form while one is open.
// Participant text is only ever a text child here: Preact writes it as text, never as HTML.
import { clock } from "../dom.js";
import { html } from "../html.js";
import { EditForm, MergeForm } from "./moderation-forms.js";
import { actionsFor, shorten, stateLabel, votes } from "./moderation.js";
import { fill, t } from "../i18n.js";

/** The words this module's templates show, read when rendering (outside the templates,
 *  where the catalog's extractor finds them). */
const T = {
  get forSpeaker() { return t("for {speaker}"); },
  get onScreen() { return t("On screen"); },
  get starred() { return t("Starred"); },
  get edited() { return t("edited"); },
  get mergedIntoQuestion() { return t("merged into “{question}”"); },
  get mergedIntoAnotherQuestion() { return t("merged into another question"); },
  get actions() { return t("Actions"); },
};

function QuestionMeta({ question, highlighted, speaker, mergedInto }) {
  return html`
    <p class="question-meta" id=${`mq-${question.id}-meta`}>
      <span class="question-author">${question.author}</span>
      ${speaker ? html`<span class="question-for">${fill(T.forSpeaker, { speaker })}</span>` : null}
      <time datetime=${question.asked_at}>${clock.format(new Date(question.asked_at))}</time>
      <span class="vote-count">${votes(question.votes)}</span>
      <span class=${`badge badge-state badge-${question.state}`}>${stateLabel(question.state)}</span>
      ${highlighted ? html`<span class="badge badge-onscreen">${T.onScreen}</span>` : null}
      ${question.starred ? html`<span class="badge badge-starred">★ ${T.starred}</span>` : null}
      ${question.history.length ? html`<span class="muted">${T.edited}</span>` : null}
      ${question.merged_into
        ? html`<span class="muted">${mergedInto
          ? fill(T.mergedIntoQuestion, { question: shorten(mergedInto, 60) })
          : T.mergedIntoAnotherQuestion}</span>`
        : null}
    </p>`;
}

/** The question's buttons, keyed so that focus stays on a button whose label toggles. */
function Actions({ question, highlighted, busy, onAction }) {
  return html`
    <div class="mod-actions" role="group" aria-label=${T.actions}>
      ${actionsFor(question, highlighted).map((button) => html`
        <button
          key=${button.focusKey}
          type="button"
          class=${`mod-action action-${button.action}`}
          data-action=${button.action}
          data-focus-key=${button.focusKey}
          aria-keyshortcuts=${button.key}
          aria-pressed=${button.pressed}
          aria-disabled=${busy ? "true" : null}
          ...${button.title ? { title: button.title } : null}
          onClick=${() => { if (!busy) onAction(question.id, button.action); }}
        >${button.label}</button>`)}
    </div>`;
}

/** A question of the queue. ``current`` holds the queue's one tab stop; ``form`` is the open
 *  edit or merge form ({kind: "edit", text} or {kind: "merge", targets, into}), if any. */
export function QueueItem({
  question, highlighted, busy, current, speaker, mergedInto, form,
  onChoose, onAction, onFormChange, onEdit, onMerge, onClose,
}) {
  const { id } = question;
  const classes = ["mod-question", `state-${question.state}`];
  if (highlighted) classes.push("is-highlighted");
  if (question.starred) classes.push("is-starred");
  return html`
    <li data-question-id=${id}>
      <article
        class=${classes.join(" ")}
        tabindex=${current ? 0 : -1}
        data-question-id=${id}
        data-focus-key=${`q:${id}`}
        aria-labelledby=${`mq-${id}-text`}
        aria-describedby=${`mq-${id}-meta`}
        aria-busy=${String(busy)}
        onClick=${() => onChoose(id)}
        onFocusIn=${() => onChoose(id)}
      >
        <p class="question-text" id=${`mq-${id}-text`}>${question.text}</p>
        <${QuestionMeta} question=${question} highlighted=${highlighted} speaker=${speaker} mergedInto=${mergedInto} />
        <${Actions} question=${question} highlighted=${highlighted} busy=${busy} onAction=${onAction} />
        <div class="mod-editor">${form?.kind === "edit"
          ? html`<${EditForm} id=${id} form=${form} onChange=${onFormChange} onSave=${onEdit} onClose=${onClose} />`
          : form?.kind === "merge"
            ? html`<${MergeForm} id=${id} form=${form} onChange=${onFormChange} onMerge=${onMerge} onClose=${onClose} />`
            : null}</div>
      </article>
    </li>`;
}
