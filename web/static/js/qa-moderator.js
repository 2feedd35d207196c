// The moderator console: the queue by state, actions by button or keyboard, settings,
// backstage notes, all live over the session's moderation topic.
// Every text from a participant goes into the page with textContent, never as HTML.
import { post } from "../lib/api.js";
import { clock, el } from "../lib/dom.js";
import { QAPanel } from "../lib/qa/panel.js";

const FILTERS = {
  pending: (q) => q.state === "pending",
  visible: (q) => q.state === "visible",
  answered: (q) => q.state === "answered",
  archived: (q) => q.state === "archived",
  dismissed: (q) => q.state === "dismissed",
  starred: (q) => q.starred && !q.merged_into,
};
const STATE_LABELS = {
  pending: "Pending",
  visible: "Live",
  answered: "Answered",
  archived: "Archived",
  dismissed: "Dismissed",
};
const DONE = {
  approve: "Approved.",
  dismiss: "Dismissed.",
  answer: "Marked answered.",
  highlight: "On screen now.",
  unhighlight: "Taken off screen.",
  archive: "Archived.",
  restore: "Restored to the live queue.",
  star: "Starred.",
  unstar: "Star removed.",
  edit: "Text saved.",
  merge: "Merged.",
};
const KEYS = { a: "approve", d: "dismiss", x: "answer", r: "restore" };
const FOCUS_KEYS = { unstar: "star", unhighlight: "highlight" }; // a toggle keeps its focus

function isTyping(target) {
  return Boolean(target.closest?.("input, textarea, select, [contenteditable]:not([contenteditable='false'])"));
}

function manualOrder(a, b) {
  const placed = (q) => (q.position === null ? 1 : 0);
  return placed(a) - placed(b)
    || (a.position ?? 0) - (b.position ?? 0)
    || Number(b.starred) - Number(a.starred)
    || b.votes - a.votes
    || Date.parse(a.asked_at) - Date.parse(b.asked_at)
    || a.id.localeCompare(b.id);
}

function shorten(text, length = 90) {
  const chars = [...text];
  return chars.length > length ? `${chars.slice(0, length - 1).join("")}…` : text;
}

function votes(count) {
  return `${count} vote${count === 1 ? "" : "s"}`;
}

// Which buttons a question in each state offers: [action, label, shortcut].
function actionsFor(question, highlighted) {
  if (question.merged_into) return [];
  const { state } = question;
  const list = [];
  if (state === "pending" || state === "dismissed") list.push(["approve", "Approve", "a"]);
  if (state === "visible") {
    list.push(highlighted ? ["unhighlight", "Take off screen", "h"] : ["highlight", "Show on screen", "h"]);
  }
  if (state === "pending" || state === "visible") list.push(["answer", "Mark answered", "x"], ["dismiss", "Dismiss", "d"]);
  if (state === "answered" || state === "archived") list.push(["restore", "Restore", "r"]);
  if (state !== "archived") list.push(["archive", "Archive", null]);
  list.push([question.starred ? "unstar" : "star", "Star", "s"], ["edit", "Edit", "e"]);
  if (state !== "archived") list.push(["merge", "Merge…", "m"]);
  return list;
}

class ModeratorConsole extends QAPanel {
  constructor(root) {
    super(root);
    this.questions = new Map();
    this.notes = [];
    this.highlighted = null;
    this.settings = null;
    this.filter = "pending";
    this.current = null;
    this.currentIndex = 0;
    this.items = new Map();
    this.busy = new Set();
    this.ready = false;
    this.list = this.find("queue");
    this.baseTitle = document.title;
  }

  start() {
    this.bindTabs();
    this.bindQueue();
    this.bindSettings();
    this.bindNotes();
    this.bindHelp();
    this.listen({
      [`session:${this.code}:moderation`]: {
        snapshot: (state) => this.applySnapshot(state),
        event: (changes) => this.applyChanges(changes),
      },
    });
  }

  // -- state ------------------------------------------------------------------------------

  applySnapshot(state) {
    const hadPending = this.ready ? this.pendingCount() : null;
    this.questions = new Map(state.questions.map((q) => [q.id, q]));
    this.notes = state.notes;
    this.highlighted = state.highlighted;
    this.settings = state.settings;
    this.ready = true;
    this.render();
    if (hadPending !== null && this.pendingCount() > hadPending) this.announce("New questions are waiting.");
  }

  applyChanges(changes) {
    const hadPending = this.pendingCount();
    for (const change of changes) this.applyChange(change);
    if (!this.ready) return;
    this.render();
    const waiting = this.pendingCount();
    if (waiting > hadPending) this.announce(`${waiting} question${waiting === 1 ? "" : "s"} waiting.`);
  }

  applyChange(change) {
    switch (change.type) {
      case "question":
        this.questions.set(change.question.id, change.question);
        break;
      case "votes":
        for (const [id, count] of Object.entries(change.votes)) {
          const question = this.questions.get(id);
          if (question) question.votes = count;
        }
        break;
      case "highlight":
        this.highlighted = change.question?.id ?? null;
        break;
      case "settings":
        this.settings = { open: change.open, moderation: change.moderation };
        break;
      case "note":
        if (!this.notes.some((note) => note.id === change.note.id)) this.notes.push(change.note);
        break;
    }
  }

  pendingCount() {
    return [...this.questions.values()].filter(FILTERS.pending).length;
  }

  visibleQuestions() {
    return [...this.questions.values()].filter(FILTERS[this.filter]).sort(manualOrder);
  }

  // -- rendering --------------------------------------------------------------------------

  render() {
    this.renderSettings();
    this.renderCounts();
    this.renderQueue();
    this.renderOnScreen();
    this.renderNotes();
  }

  renderSettings() {
    this.find("open").checked = this.settings.open;
    this.showQuestionsOpen(this.settings.open);
    for (const radio of this.find("moderation").querySelectorAll("input")) {
      radio.checked = radio.value === this.settings.moderation;
    }
  }

  renderCounts() {
    const all = [...this.questions.values()];
    for (const [key, matches] of Object.entries(FILTERS)) {
      this.root.querySelector(`[data-count="${key}"]`).textContent = String(all.filter(matches).length);
    }
    const waiting = all.filter(FILTERS.pending).length;
    document.title = waiting ? `(${waiting}) ${this.baseTitle}` : this.baseTitle;
  }

  renderQueue() {
    const focusInQueue = this.list.contains(document.activeElement);
    const focusKey = /** @type {HTMLElement | null} */ (document.activeElement)?.dataset?.focusKey;
    const shown = this.visibleQuestions();
    for (const question of shown) this.updateItem(question);
    this.placeItems(shown.map((q) => this.items.get(q.id)));
    this.pickCurrent(shown);
    const empty = this.find("queue-empty");
    empty.hidden = shown.length > 0;
    empty.textContent = `No ${this.filter === "visible" ? "live" : this.filter} questions.`;
    if (focusInQueue) this.restoreFocus(focusKey);
  }

  placeItems(nodes) {
    // Move only what is out of place; moveBefore keeps focus where the browser has it.
    nodes.forEach((node, index) => {
      const at = this.list.children[index] ?? null;
      if (at === node) return;
      if (this.list.moveBefore && node.isConnected && node.parentNode === this.list) this.list.moveBefore(node, at);
      else this.list.insertBefore(node, at);
    });
    while (this.list.children.length > nodes.length) this.list.lastElementChild.remove();
  }

  pickCurrent(shown) {
    const index = shown.findIndex((q) => q.id === this.current);
    if (index >= 0) this.currentIndex = index;
    else this.current = shown[Math.min(this.currentIndex, shown.length - 1)]?.id ?? null;
    for (const [id, item] of this.items) {
      item.querySelector("article").tabIndex = id === this.current ? 0 : -1;
    }
  }

  restoreFocus(focusKey) {
    if (this.list.contains(document.activeElement)) return;
    const same = focusKey && this.list.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
    if (same) same.focus();
    else this.focusCurrent();
  }

  focusCurrent() {
    const item = this.current && this.items.get(this.current);
    if (item) item.querySelector("article").focus();
    else this.find("queue-panel").focus();
  }

  updateItem(question) {
    let item = this.items.get(question.id);
    if (!item) {
      item = this.createItem(question.id);
      this.items.set(question.id, item);
    }
    const article = item.querySelector("article");
    const highlighted = question.id === this.highlighted;
    article.className = `mod-question state-${question.state}`;
    article.classList.toggle("is-highlighted", highlighted);
    article.classList.toggle("is-starred", question.starred);
    article.querySelector(".question-text").textContent = question.text;
    article.querySelector(".question-meta").replaceChildren(...this.metaParts(question, highlighted));
    const actions = article.querySelector(".mod-actions");
    const signature = JSON.stringify([actionsFor(question, highlighted), question.starred, this.busy.has(question.id)]);
    if (actions.dataset.signature !== signature) {
      actions.dataset.signature = signature;
      actions.replaceChildren(...this.actionButtons(question, highlighted));
    }
    article.setAttribute("aria-busy", String(this.busy.has(question.id)));
  }

  createItem(id) {
    const article = el(
      "article",
      {
        class: "mod-question",
        tabindex: "-1",
        "data-question-id": id,
        "data-focus-key": `q:${id}`,
        "aria-labelledby": `mq-${id}-text`,
        "aria-describedby": `mq-${id}-meta`,
      },
      el("p", { class: "question-text", id: `mq-${id}-text` }),
      el("p", { class: "question-meta", id: `mq-${id}-meta` }),
      el("div", { class: "mod-actions", role: "group", "aria-label": "Actions" }),
      el("div", { class: "mod-editor" }),
    );
    return el("li", { "data-question-id": id }, article);
  }

  metaParts(question, highlighted) {
    const parts = [el("span", { class: "question-author", text: question.author })];
    const speaker = question.addressed_to && this.speakers.get(question.addressed_to);
    if (speaker) parts.push(el("span", { class: "question-for", text: `for ${speaker}` }));
    parts.push(el("time", { datetime: question.asked_at, text: clock.format(new Date(question.asked_at)) }));
    parts.push(el("span", { class: "vote-count", text: votes(question.votes) }));
    parts.push(el("span", { class: `badge badge-state badge-${question.state}`, text: STATE_LABELS[question.state] }));
    if (highlighted) parts.push(el("span", { class: "badge badge-onscreen", text: "On screen" }));
    if (question.starred) parts.push(el("span", { class: "badge badge-starred", text: "★ Starred" }));
    if (question.history.length) parts.push(el("span", { class: "muted", text: "edited" }));
    if (question.merged_into) {
      const target = this.questions.get(question.merged_into);
      parts.push(el("span", { class: "muted", text: `merged into “${shorten(target?.text ?? "another question", 60)}”` }));
    }
    return parts;
  }

  actionButtons(question, highlighted) {
    return actionsFor(question, highlighted).map(([action, label, key]) => el(
      "button",
      {
        type: "button",
        class: `mod-action action-${action}`,
        "data-action": action,
        "data-focus-key": `${FOCUS_KEYS[action] ?? action}:${question.id}`,
        "aria-keyshortcuts": key,
        "aria-pressed": action === "star" || action === "unstar" ? String(question.starred) : null,
        "aria-disabled": this.busy.has(question.id) ? "true" : null,
        title: key ? `${label.replace("…", "")} (${key.toUpperCase()})` : null,
      },
      label,
    ));
  }

  renderOnScreen() {
    const box = this.find("onscreen");
    const question = this.highlighted && this.questions.get(this.highlighted);
    if (!question) {
      box.replaceChildren(el("p", { class: "muted", text: "Nothing. Highlight a live question to put it on the stage screen." }));
      return;
    }
    box.replaceChildren(
      el("p", { class: "question-text", text: question.text }),
      el("p", { class: "question-meta" }, el("span", { text: question.author }), el("span", { class: "vote-count", text: votes(question.votes) })),
      el("button", { type: "button", class: "secondary", "data-unhighlight": question.id }, "Take off screen"),
    );
  }

  renderNotes() {
    const list = this.find("notes");
    list.replaceChildren(...this.notes.map((note) => el(
      "li",
      {},
      el("p", { class: "note-text", text: note.text }),
      el("p", { class: "note-meta" }, el("span", { text: note.author }), el("time", { datetime: note.written_at, text: clock.format(new Date(note.written_at)) })),
    )));
  }

  // -- actions ----------------------------------------------------------------------------

  async act(id, action, extra = {}) {
    if (this.busy.has(id)) return false;
    this.busy.add(id);
    this.render();
    try {
      const { question } = await post(`/api/questions/${encodeURIComponent(id)}/moderation`, { action, ...extra });
      this.questions.set(id, question);
      if (action === "highlight") this.highlighted = id;
      else if (this.highlighted === id && (action === "unhighlight" || question.state !== "visible")) this.highlighted = null;
      this.showStatus(DONE[action]);
      return true;
    } catch (error) {
      this.showError(error.message);
      return false;
    } finally {
      this.busy.delete(id);
      this.render();
    }
  }

  run(id, action) {
    if (action === "edit") return this.openEditor(id);
    if (action === "merge") return this.openMerge(id);
    return this.act(id, action);
  }

  toggle(id, on, off) {
    const question = this.questions.get(id);
    if (!question) return;
    const isOn = off === "unhighlight" ? this.highlighted === id : question.starred;
    this.act(id, isOn ? off : on);
  }

  // -- edit and merge forms ---------------------------------------------------------------

  editorSlot(id) {
    return this.items.get(id)?.querySelector(".mod-editor");
  }

  closeEditor(id, focus = true) {
    this.editorSlot(id)?.replaceChildren();
    if (focus) this.items.get(id)?.querySelector("article").focus();
  }

  openEditor(id) {
    const question = this.questions.get(id);
    const slot = this.editorSlot(id);
    if (!question || !slot) return;
    const field = el("textarea", { id: `edit-${id}`, rows: "3", required: true });
    field.value = question.text;
    const form = el(
      "form",
      { class: "mod-form", novalidate: true },
      el("label", { for: `edit-${id}`, text: "Edit the question" }),
      field,
      el("div", { class: "mod-form-row" },
        el("button", { type: "submit" }, "Save"),
        el("button", { type: "button", class: "secondary", "data-cancel": "" }, "Cancel"),
        el("span", { class: "muted", text: "Ctrl+Enter saves · Esc cancels" })),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (await this.act(id, "edit", { text: field.value })) this.closeEditor(id);
    });
    field.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
    });
    this.showForm(id, slot, form);
    field.focus();
    field.setSelectionRange(field.value.length, field.value.length);
  }

  openMerge(id) {
    const slot = this.editorSlot(id);
    if (!slot) return;
    const targets = [...this.questions.values()]
      .filter((q) => q.id !== id && !q.merged_into && ["pending", "visible", "answered"].includes(q.state))
      .sort((a, b) => b.votes - a.votes);
    if (targets.length === 0) return this.showError("There is no other open question to merge this one into.");
    const select = el("select", { id: `merge-${id}` }, ...targets.map((q) => el("option", { value: q.id, text: `${shorten(q.text)} (${votes(q.votes)})` })));
    const form = el(
      "form",
      { class: "mod-form", novalidate: true },
      el("label", { for: `merge-${id}`, text: "Merge into" }),
      select,
      el("p", { class: "muted", text: "This question is archived; its votes and its author's vote go to the one you pick." }),
      el("div", { class: "mod-form-row" },
        el("button", { type: "submit" }, "Merge"),
        el("button", { type: "button", class: "secondary", "data-cancel": "" }, "Cancel")),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (await this.act(id, "merge", { into: select.value })) this.closeEditor(id);
    });
    this.showForm(id, slot, form);
    select.focus();
  }

  showForm(id, slot, form) {
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.closeEditor(id);
      }
    });
    form.querySelector("[data-cancel]").addEventListener("click", () => this.closeEditor(id));
    slot.replaceChildren(form);
  }

  // -- keyboard and clicks ----------------------------------------------------------------

  bindQueue() {
    this.list.addEventListener("click", (event) => {
      const article = event.target.closest("article[data-question-id]");
      if (!article) return;
      this.current = article.dataset.questionId;
      this.pickCurrent(this.visibleQuestions());
      const button = event.target.closest("button[data-action]");
      if (button && button.getAttribute("aria-disabled") !== "true") this.run(this.current, button.dataset.action);
    });
    this.list.addEventListener("focusin", (event) => {
      const article = event.target.closest("article[data-question-id]");
      if (article && article.dataset.questionId !== this.current) {
        this.current = article.dataset.questionId;
        this.pickCurrent(this.visibleQuestions());
      }
    });
    this.list.addEventListener("keydown", (event) => this.onQueueKey(event));
    this.find("onscreen").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-unhighlight]");
      if (button) this.act(button.dataset.unhighlight, "unhighlight");
    });
  }

  onQueueKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    if (event.target.closest(".mod-editor")) return;
    const article = event.target.closest("article[data-question-id]");
    if (!article) return;
    const id = article.dataset.questionId;
    const key = event.key;
    let handled = true;
    if (key === "j" || key === "ArrowDown") this.move(1);
    else if (key === "k" || key === "ArrowUp") this.move(-1);
    else if (KEYS[key]) this.act(id, KEYS[key]);
    else if (key === "h") this.toggle(id, "highlight", "unhighlight");
    else if (key === "s") this.toggle(id, "star", "unstar");
    else if (key === "e") this.openEditor(id);
    else if (key === "m") this.openMerge(id);
    else handled = false;
    if (handled) event.preventDefault();
  }

  move(step) {
    const shown = this.visibleQuestions();
    if (shown.length === 0) return;
    const index = Math.max(0, shown.findIndex((q) => q.id === this.current));
    const next = Math.min(shown.length - 1, Math.max(0, index + step));
    this.current = shown[next].id;
    this.pickCurrent(shown);
    this.focusCurrent();
  }

  bindTabs() {
    const tabs = [...this.find("tabs").querySelectorAll("[role=tab]")];
    const select = (tab) => {
      for (const other of tabs) {
        other.setAttribute("aria-selected", String(other === tab));
        other.tabIndex = other === tab ? 0 : -1;
      }
      this.find("queue-panel").setAttribute("aria-labelledby", tab.id);
      this.filter = tab.dataset.filter;
      this.current = null;
      this.currentIndex = 0;
      if (this.ready) this.renderQueue();
    };
    this.find("tabs").addEventListener("click", (event) => {
      const tab = event.target.closest("[role=tab]");
      if (tab) select(tab);
    });
    this.find("tabs").addEventListener("keydown", (event) => {
      const index = tabs.indexOf(document.activeElement);
      const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined || index < 0) return;
      event.preventDefault();
      const tab = tabs[(next + tabs.length) % tabs.length];
      tab.focus();
      select(tab);
    });
  }

  // -- settings, notes, help --------------------------------------------------------------

  bindSettings() {
    const open = this.find("open");
    open.addEventListener("change", () => this.configure({ open: open.checked }));
    this.find("moderation").addEventListener("change", (event) => this.configure({ moderation: event.target.value }));
  }

  async configure(change) {
    try {
      this.settings = await post(`/api/sessions/${encodeURIComponent(this.code)}/qa`, change);
      if ("open" in change) this.showStatus(change.open ? "Questions are open." : "Questions are closed.");
      else this.showStatus(change.moderation === "pre" ? "New questions wait for review." : "New questions appear at once.");
    } catch (error) {
      this.showError(error.message);
    }
    if (this.settings) this.renderSettings();
  }

  bindNotes() {
    const form = this.find("note-form");
    const text = this.find("note-text");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!text.value.trim()) return this.showError("Write the note first.");
      try {
        const { note } = await post(`/api/sessions/${encodeURIComponent(this.code)}/notes`, { text: text.value });
        if (!this.notes.some((known) => known.id === note.id)) this.notes.push(note);
        this.renderNotes();
        text.value = "";
        this.showStatus("Note added.");
      } catch (error) {
        this.showError(error.message);
      }
    });
  }

  bindHelp() {
    const dialog = this.find("help");
    let before = null;
    const open = () => {
      if (dialog.open) return;
      before = document.activeElement;
      dialog.showModal();
    };
    dialog.addEventListener("close", () => before?.focus?.());
    this.find("help-open").addEventListener("click", open);
    document.addEventListener("keydown", (event) => {
      if (event.key === "?" && !event.ctrlKey && !event.metaKey && !event.altKey && !isTyping(event.target)) {
        event.preventDefault();
        open();
      }
    });
  }
}

const root = document.querySelector("[data-qa-console]");
if (root) new ModeratorConsole(root).start();
