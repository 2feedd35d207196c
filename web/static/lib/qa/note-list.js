// The moderators' backstage notes, oldest first. Their text is rendered as text only.
import { clock } from "../dom.js";
import { html } from "../html.js";

/** The items of the notes list: one per note ({id, text, author, written_at}). */
export function NoteList({ notes }) {
  return notes.map((note) => html`
    <li key=${note.id}>
      <p class="note-text">${note.text}</p>
      <p class="note-meta"><span>${note.author}</span><time datetime=${note.written_at}>${clock.format(new Date(note.written_at))}</time></p>
    </li>`);
}
