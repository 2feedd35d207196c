// The participant Q&A panel of a session page: ask, read, upvote, live over the socket.
// Every text from a participant goes into the page with textContent, never as HTML.
import { api, del, post } from "../lib/api.js";
import { clock, el } from "../lib/dom.js";
import { formatNumber, nt, split, t } from "../lib/i18n.js";
import { QAPanel } from "../lib/qa/panel.js";

/** How long new questions are gathered before they are announced together. */
const NEW_QUESTIONS_MS = 3000;

/** The words this module's templates show, read when rendering (outside the templates,
 *  where the catalog's extractor finds them). */
const T = {
  get upvote() { return t("Upvote"); },
};

const MAX_TEXT = 500;
const PUBLIC_STATES = new Set(["visible", "answered"]);
/** "3 votes", the number in bold. */
function votesLabel(count) {
  const words = nt("{count} vote", "{count} votes", count, { count: "{count}" });
  return el("span", { class: "vote-count" }, ...split(words, { count: el("strong", { text: formatNumber(count) }) }));
}

function ownLabel(question) {
  if (question.merged_into_text) return t("Merged into “{question}”", { question: question.merged_into_text });
  switch (question.state) {
    case "pending": return t("Waiting for a moderator");
    case "dismissed": return t("Not taken");
    case "archived": return t("Archived");
    default: return question.state;
  }
}

/** Most votes first; answered questions sink below the open ones (sessions.qa.ordered). */
function byVotes(a, b) {
  const answered = (q) => Number(q.state === "answered");
  return answered(a) - answered(b)
    || b.votes - a.votes
    || Date.parse(a.asked_at) - Date.parse(b.asked_at)
    || a.id.localeCompare(b.id);
}

function byNewest(a, b) {
  return Date.parse(b.asked_at) - Date.parse(a.asked_at) || a.id.localeCompare(b.id);
}

class ParticipantPanel extends QAPanel {
  constructor(root) {
    super(root);
    this.me = root.dataset.participantId;
    this.questions = new Map();
    this.own = new Map();
    this.voted = new Set();
    this.votePending = new Set();
    this.highlighted = null;
    this.settings = { open: !root.querySelector("[data-qa-closed]:not([hidden])"), moderation: "pre" };
    this.showQuestionsOpen(this.settings.open);
    this.order = "votes";
    this.ready = false;
    this.participantSnapshots = 0;
  }

  start() {
    this.bindForm();
    this.bindList();
    this.bindOrder();
    const topics = {
      [`session:${this.code}:qa`]: {
        snapshot: (state) => this.applySnapshot(state),
        event: (changes) => this.applyChanges(changes),
      },
    };
    if (this.me) {
      topics[`participant:${this.me}`] = {
        snapshot: () => this.participantSnapshot(),
        event: (changes) => this.applyChanges(changes),
      };
    }
    this.listen(topics);
  }

  // -- state ----------------------------------------------------------------------------

  applySnapshot(state) {
    this.settings = state.settings;
    this.questions = new Map(state.questions.map((q) => [q.id, q]));
    this.voted = new Set(state.questions.filter((q) => q.voted).map((q) => q.id));
    this.own = new Map(state.own.map((q) => [q.id, q]));
    for (const q of state.questions) if (q.mine) this.own.set(q.id, q);
    this.highlighted = state.highlighted;
    this.ready = true;
    this.render();
  }

  participantSnapshot() {
    // A participant topic that could not resume may have missed votes or own questions:
    // read the whole view again (the first one comes with the public snapshot).
    this.participantSnapshots += 1;
    if (this.participantSnapshots > 1) this.refresh();
  }

  async refresh() {
    try {
      this.applySnapshot(await api(`/api/sessions/${encodeURIComponent(this.code)}/questions`));
    } catch (error) {
      this.showError(error.message);
    }
  }

  applyChanges(changes) {
    for (const change of changes) this.applyChange(change);
    if (this.ready) this.render();
  }

  applyChange(change) {
    switch (change.type) {
      case "question":
        if (!this.questions.has(change.question.id) && !change.question.mine) this.newQuestion(change.question);
        this.questions.set(change.question.id, change.question);
        break;
      case "question_removed":
        this.questions.delete(change.id);
        break;
      case "votes":
        for (const [id, count] of Object.entries(change.votes)) {
          const question = this.questions.get(id);
          if (question) question.votes = count;
        }
        break;
      case "highlight":
        this.changeHighlight(change.question);
        break;
      case "settings":
        this.changeSettings({ open: change.open, moderation: change.moderation });
        break;
      case "own_question":
        this.changeOwn(change.question);
        break;
      case "voted":
        if (change.voted) this.voted.add(change.id);
        else this.voted.delete(change.id);
        break;
    }
  }

  /** A question newly approved for everyone: read out, at most one announcement every few
   *  seconds (a busy session's questions are counted, not read one over the other). */
  newQuestion(question) {
    this.arrived = [...(this.arrived ?? []), question];
    if (this.arrivalTimer) return;
    this.arrivalTimer = setTimeout(() => {
      const arrived = this.arrived;
      this.arrived = [];
      this.arrivalTimer = null;
      this.announce(arrived.length === 1
        ? t("New question: {question}", { question: arrived[0].text })
        : nt("{count} new question", "{count} new questions", arrived.length));
    }, NEW_QUESTIONS_MS);
  }

  changeHighlight(question) {
    const id = question?.id ?? null;
    if (question && this.questions.has(id)) this.questions.set(id, question);
    if (id !== this.highlighted) {
      this.announce(question ? t("On screen now: {question}", { question: question.text }) : t("No question is on screen."));
    }
    this.highlighted = id;
  }

  changeSettings(settings) {
    if (settings.open !== this.settings.open) {
      this.announce(settings.open ? t("Questions are open.") : t("Questions are closed."));
    }
    this.settings = settings;
  }

  changeOwn(question) {
    const before = this.own.get(question.id);
    this.own.set(question.id, question);
    if (!before) return;
    if (question.text !== before.text && question.edited) this.announce(t("A moderator edited your question."));
    if (before.state === question.state) return;
    if (question.merged_into_text) this.announce(t("Your question was merged into a similar one."));
    else if (question.state === "visible") this.announce(t("Your question is now public."));
    else if (question.state === "dismissed") this.announce(t("A moderator did not take your question."));
    else if (question.state === "answered") this.announce(t("Your question was answered."));
  }

  // -- rendering ------------------------------------------------------------------------

  render() {
    const focusKey = /** @type {HTMLElement | null} */ (document.activeElement)?.dataset?.focusKey;
    this.renderSettings();
    this.renderOwn();
    this.renderOnScreen();
    this.renderList();
    const focused = /** @type {HTMLElement | null} */ (document.activeElement);
    if (focusKey && focused?.dataset?.focusKey !== focusKey) {
      this.root.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
    }
  }

  renderSettings() {
    const { open, moderation } = this.settings;
    this.find("closed").hidden = open;
    this.showQuestionsOpen(open);
    const fields = this.find("ask-fields");
    if (fields) fields.disabled = !open;
    const hint = this.find("mode-hint");
    if (hint) {
      hint.textContent = moderation === "pre"
        ? t("A moderator reads each question before it appears.")
        : t("Questions appear at once.");
    }
  }

  renderOwn() {
    const waiting = [...this.own.values()]
      .filter((q) => !PUBLIC_STATES.has(q.state))
      .sort((a, b) => Date.parse(a.asked_at) - Date.parse(b.asked_at));
    this.find("own-section").hidden = waiting.length === 0;
    this.find("own").replaceChildren(...waiting.map((q) => this.ownItem(q)));
  }

  ownItem(question) {
    return el(
      "li",
      { class: `own-question state-${question.state}`, "data-question-id": question.id },
      el("p", { class: "question-text", text: question.text }),
      el(
        "p",
        { class: "question-meta" },
        el("span", { class: "own-state", text: ownLabel(question) }),
        this.speakerNote(question),
        this.editedBadge(question),
      ),
    );
  }

  renderOnScreen() {
    const question = this.highlighted ? this.questions.get(this.highlighted) : null;
    this.find("onscreen").hidden = !question;
    this.find("onscreen-text").textContent = question?.text ?? "";
    this.find("onscreen-meta").replaceChildren(...(question ? this.metaParts(question, false) : []));
  }

  renderList() {
    const sorted = [...this.questions.values()].sort(this.order === "time" ? byNewest : byVotes);
    this.find("list").replaceChildren(...sorted.map((q) => this.questionItem(q)));
    this.find("total").textContent = formatNumber(sorted.length);
    const empty = this.find("empty");
    empty.hidden = sorted.length > 0;
    empty.textContent = this.me && this.settings.open ? t("No questions yet. Be the first to ask.") : t("No questions yet.");
  }

  questionItem(question) {
    const highlighted = question.id === this.highlighted;
    const classes = `question state-${question.state}${highlighted ? " is-highlighted" : ""}`;
    return el(
      "li",
      { class: classes, "data-question-id": question.id },
      el("div", { class: "question-votes" }, votesLabel(question.votes), this.voteControl(question)),
      el(
        "div",
        { class: "question-body" },
        el("p", { class: "question-text", id: `q-${question.id}-text`, text: question.text }),
        el("p", { class: "question-meta" }, ...this.metaParts(question)),
      ),
    );
  }

  voteControl(question) {
    if (!this.me) return null;
    if (this.own.has(question.id) || question.mine) return el("span", { class: "vote-own", text: t("Yours") });
    if (question.state !== "visible") return null;
    const voted = this.voted.has(question.id);
    return el(
      "button",
      {
        type: "button",
        class: "vote-button",
        "aria-pressed": String(voted),
        "aria-disabled": this.votePending.has(question.id) ? "true" : null,
        title: voted ? t("Withdraw your vote") : t("Upvote this question"),
        "aria-describedby": `q-${question.id}-text`,
        "data-vote": question.id,
        "data-focus-key": `vote:${question.id}`,
      },
      el("span", { class: "vote-arrow", "aria-hidden": "true", text: "▲" }),
      ` ${T.upvote}`,
    );
  }

  metaParts(question, badges = true) {
    const parts = [el("span", { class: "question-author", text: question.author })];
    const note = this.speakerNote(question);
    if (note) parts.push(note);
    parts.push(el("time", { datetime: question.asked_at, text: clock.format(new Date(question.asked_at)) }));
    if (!badges) return parts;
    if (question.state === "answered") parts.push(el("span", { class: "badge badge-answered", text: t("Answered") }));
    const edited = this.editedBadge(question);
    if (edited) parts.push(edited);
    if (question.id === this.highlighted) parts.push(el("span", { class: "badge badge-onscreen", text: t("On screen now") }));
    return parts;
  }

  editedBadge(question) {
    return question.edited ? el("span", { class: "badge badge-edited", text: t("Edited by a moderator") }) : null;
  }

  speakerNote(question) {
    const name = question.addressed_to && this.speakers.get(question.addressed_to);
    return name ? el("span", { class: "question-for", text: t("for {speaker}", { speaker: name }) }) : null;
  }

  // -- asking -----------------------------------------------------------------------------

  bindForm() {
    const form = this.find("ask");
    if (!form) return;
    form.hidden = false;
    const text = this.find("text");
    text.addEventListener("input", () => this.updateCount());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.ask(form);
    });
    this.updateCount();
  }

  updateCount() {
    const length = [...this.find("text").value.trim()].length;
    const left = MAX_TEXT - length;
    const count = this.find("count");
    count.textContent = left >= 0
      ? nt("{count} character left", "{count} characters left", left)
      : nt("{count} character too many", "{count} characters too many", -left);
    count.classList.toggle("is-over", left < 0);
    this.find("text").setAttribute("aria-invalid", String(left < 0));
  }

  async ask(form) {
    const textarea = this.find("text");
    const text = textarea.value.trim();
    if (!text) return this.showError(t("Write your question first."));
    if ([...text].length > MAX_TEXT) return this.showError(t("A question has at most {count} characters.", { count: formatNumber(MAX_TEXT) }));
    const fields = this.find("ask-fields");
    fields.disabled = true;
    try {
      const body = {
        text,
        anonymous: this.find("anonymous").checked,
        addressed_to: this.find("for")?.value ?? "",
      };
      const { question } = await post(`/api/sessions/${encodeURIComponent(this.code)}/questions`, body);
      this.asked(question);
      form.reset();
      this.updateCount();
    } catch (error) {
      this.showError(error.message);
    } finally {
      fields.disabled = !this.settings.open;
      textarea.focus();
    }
  }

  asked(question) {
    this.own.set(question.id, question);
    if (PUBLIC_STATES.has(question.state)) {
      this.questions.set(question.id, question);
      this.showStatus(t("Your question is up."));
    } else {
      this.showStatus(t("Thanks! Your question appears once a moderator approves it."));
    }
    if (this.ready) this.render();
  }

  // -- voting and order -------------------------------------------------------------------

  bindList() {
    this.find("list").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-vote]");
      if (button && button.getAttribute("aria-disabled") !== "true") this.toggleVote(button.dataset.vote);
    });
  }

  async toggleVote(id) {
    const up = !this.voted.has(id);
    this.votePending.add(id);
    this.render();
    try {
      const path = `/api/questions/${encodeURIComponent(id)}/vote`;
      const result = up ? await post(path) : await del(path);
      if (result.voted) this.voted.add(id);
      else this.voted.delete(id);
      const question = this.questions.get(id);
      if (question) question.votes = result.votes;
      this.showStatus(result.voted ? t("Vote counted.") : t("Vote withdrawn."));
    } catch (error) {
      this.showError(error.message);
    } finally {
      this.votePending.delete(id);
      this.render();
    }
  }

  bindOrder() {
    const order = this.find("order");
    order.hidden = false;
    order.addEventListener("change", (event) => {
      this.order = event.target.value === "time" ? "time" : "votes";
      if (this.ready) this.renderList();
    });
  }
}

const root = document.querySelector("[data-qa-panel]");
if (root) new ParticipantPanel(root).start();
