// The forms a question of the moderator console opens under its actions: edit its text, or
// merge it into another question. Both are controlled by the queue, which keeps what was typed
// or picked while the question is out of view; Esc or Cancel closes them.
import { html } from "../html.js";
import { shorten, votes } from "./moderation.js";
import { fill, t } from "../i18n.js";

/** The words this module's templates show, read when rendering (outside the templates,
 *  where the catalog's extractor finds them). */
const T = {
  get editTheQuestion() { return t("Edit the question"); },
  get save() { return t("Save"); },
  get cancel() { return t("Cancel"); },
  get ctrlEnterSavesEscCancels() { return t("Ctrl+Enter saves · Esc cancels"); },
  get mergeInto() { return t("Merge into"); },
  get questionVotes() { return t("{question} ({votes})"); },
  get thisQuestionIsArchivedIts() { return t("This question is archived; its votes and its author's vote go to the one you pick."); },
  get merge() { return t("Merge"); },
};

function escapeCloses(id, onClose) {
  return (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onClose(id);
    }
  };
}

/** The edit form: ``form.text`` is the draft; Ctrl+Enter (or ⌘+Enter) saves. */
export function EditForm({ id, form, onChange, onSave, onClose }) {
  const submit = (event) => {
    event.preventDefault();
    onSave(id, event.currentTarget.querySelector("textarea").value);
  };
  const shortcut = (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) event.currentTarget.form.requestSubmit();
  };
  return html`
    <form class="mod-form" noValidate onSubmit=${submit} onKeyDown=${escapeCloses(id, onClose)}>
      <label for=${`edit-${id}`}>${T.editTheQuestion}</label>
      <textarea
        id=${`edit-${id}`}
        rows="3"
        required
        value=${form.text}
        onInput=${(event) => onChange(id, { ...form, text: event.currentTarget.value })}
        onKeyDown=${shortcut}
      ></textarea>
      <div class="mod-form-row">
        <button type="submit">${T.save}</button>
        <button type="button" class="secondary" data-cancel="" onClick=${() => onClose(id)}>${T.cancel}</button>
        <span class="muted">${T.ctrlEnterSavesEscCancels}</span>
      </div>
    </form>`;
}

/** The merge form: ``form.targets`` are the questions open when it was opened, ``form.into``
 *  the one picked. */
export function MergeForm({ id, form, onChange, onMerge, onClose }) {
  const submit = (event) => {
    event.preventDefault();
    onMerge(id, event.currentTarget.querySelector("select").value);
  };
  return html`
    <form class="mod-form" noValidate onSubmit=${submit} onKeyDown=${escapeCloses(id, onClose)}>
      <label for=${`merge-${id}`}>${T.mergeInto}</label>
      <select
        id=${`merge-${id}`}
        value=${form.into}
        onChange=${(event) => onChange(id, { ...form, into: event.currentTarget.value })}
      >
        ${form.targets.map((q) => html`<option key=${q.id} value=${q.id}>${fill(T.questionVotes, { question: shorten(q.text), votes: votes(q.votes) })}</option>`)}
      </select>
      <p class="muted">${T.thisQuestionIsArchivedIts}</p>
      <div class="mod-form-row">
        <button type="submit">${T.merge}</button>
        <button type="button" class="secondary" data-cancel="" onClick=${() => onClose(id)}>${T.cancel}</button>
      </div>
    </form>`;
}
