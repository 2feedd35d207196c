// The moderator console: the queue by state, actions by button or keyboard, settings,
// backstage notes, all live over the session's moderation topic. This keeps what the
// console knows and does the actions; Preact renders the queue, "On screen now" and the
// notes from it (lib/qa/moderation-queue.js, on-screen.js, note-list.js), so every text
// from a participant goes into the page as text, never as HTML.
import { post } from "../api.js";
import { html, render } from "../html.js";
import { ModerationQueue, readTabs } from "./moderation-queue.js";
import {
  afterAction,
  applyChange,
  doneText,
  fromSnapshot,
  pendingCount,
  withNote,
} from "./moderation.js";
import { NoteList } from "./note-list.js";
import { OnScreen } from "./on-screen.js";
import { QAPanel } from "./panel.js";
import { bindShortcutHelp } from "./shortcut-help.js";
import { formatNumber, nt, t } from "../i18n.js";

export class ModeratorConsole extends QAPanel {
  #mounted = new WeakSet();

  constructor(root) {
    super(root);
    this.moderation = { questions: new Map(), notes: [], highlighted: null, settings: null };
    this.ready = false; // the topic's snapshot came
    this.busy = new Set();
    this.baseTitle = document.title;
    this.queue = this.find("queue-view");
    this.tabs = readTabs(this.find("tabs"));
  }

  start() {
    this.renderQueue();
    this.bindSettings();
    this.bindNotes();
    bindShortcutHelp(this.find("help"), this.find("help-open"));
    this.listen({
      [`session:${this.code}:moderation`]: {
        snapshot: (state) => this.applySnapshot(state),
        event: (changes) => this.applyChanges(changes),
      },
    });
  }

  // -- state ------------------------------------------------------------------------------

  applySnapshot(snapshot) {
    const hadPending = this.ready ? this.pendingCount() : null;
    this.moderation = fromSnapshot(snapshot);
    this.ready = true;
    this.render();
    if (hadPending !== null && this.pendingCount() > hadPending) this.announce(t("New questions are waiting."));
  }

  applyChanges(changes) {
    const hadPending = this.pendingCount();
    this.moderation = changes.reduce(applyChange, this.moderation);
    if (!this.ready) return;
    this.render();
    const waiting = this.pendingCount();
    if (waiting > hadPending) this.announce(nt("{count} question waiting.", "{count} questions waiting.", waiting));
  }

  pendingCount() {
    return pendingCount(this.moderation.questions.values());
  }

  // -- rendering --------------------------------------------------------------------------

  render() {
    if (!this.ready) return;
    this.renderSettings();
    const waiting = this.pendingCount();
    document.title = waiting ? `(${formatNumber(waiting)}) ${this.baseTitle}` : this.baseTitle;
    this.renderQueue();
    const { questions, highlighted } = this.moderation;
    const onScreen = (highlighted && questions.get(highlighted)) || null;
    this.#mount(html`<${OnScreen} question=${onScreen} onTakeOff=${(id) => this.act(id, "unhighlight")} />`, this.find("onscreen"));
    this.renderNotes();
  }

  renderQueue() {
    this.#mount(
      html`<${ModerationQueue} tabs=${this.tabs} moderation=${this.ready ? this.moderation : null} busy=${this.busy} speakers=${this.speakers} actions=${this} />`,
      this.queue,
    );
  }

  renderNotes() {
    this.#mount(html`<${NoteList} notes=${this.moderation.notes} />`, this.find("notes"));
  }

  /** Renders ``vnode`` into ``container``, dropping what the server rendered there first. */
  #mount(vnode, container) {
    if (!this.#mounted.has(container)) {
      container.replaceChildren();
      this.#mounted.add(container);
    }
    render(vnode, container);
  }

  renderSettings() {
    const { settings } = this.moderation;
    this.find("open").checked = settings.open;
    this.showQuestionsOpen(settings.open);
    for (const radio of this.find("moderation").querySelectorAll("input")) {
      radio.checked = radio.value === settings.moderation;
    }
  }

  // -- actions ----------------------------------------------------------------------------

  /** Does ``action`` on question ``id``; resolves to whether it went through. */
  async act(id, action, extra = {}) {
    if (this.busy.has(id)) return false;
    this.busy.add(id);
    this.render();
    try {
      const { question } = await post(`/api/questions/${encodeURIComponent(id)}/moderation`, { action, ...extra });
      this.moderation = afterAction(this.moderation, id, action, question);
      this.showStatus(doneText(action));
      return true;
    } catch (error) {
      this.showError(error.message);
      return false;
    } finally {
      this.busy.delete(id);
      this.render();
    }
  }

  /** Does ``on`` or ``off`` on question ``id``, whichever undoes how it is now. */
  toggle(id, on, off) {
    const question = this.moderation.questions.get(id);
    if (!question) return;
    const isOn = off === "unhighlight" ? this.moderation.highlighted === id : question.starred;
    this.act(id, isOn ? off : on);
  }

  // -- settings and notes (the page's own form controls) ----------------------------------

  bindSettings() {
    const open = this.find("open");
    open.addEventListener("change", () => this.configure({ open: open.checked }));
    this.find("moderation").addEventListener("change", (event) => this.configure({ moderation: event.target.value }));
  }

  async configure(change) {
    try {
      const settings = await post(`/api/sessions/${encodeURIComponent(this.code)}/qa`, change);
      if ("open" in change) this.showStatus(change.open ? t("Questions are open.") : t("Questions are closed."));
      else this.showStatus(change.moderation === "pre" ? t("New questions wait for review.") : t("New questions appear at once."));
      this.moderation = { ...this.moderation, settings };
    } catch (error) {
      this.showError(error.message);
    }
    if (this.moderation.settings) this.renderSettings();
  }

  bindNotes() {
    const form = this.find("note-form");
    const text = this.find("note-text");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!text.value.trim()) return this.showError(t("Write the note first."));
      try {
        const { note } = await post(`/api/sessions/${encodeURIComponent(this.code)}/notes`, { text: text.value });
        this.moderation = withNote(this.moderation, note);
        this.renderNotes();
        text.value = "";
        this.showStatus(t("Note added."));
      } catch (error) {
        this.showError(error.message);
      }
    });
  }
}
