// The moderator console's queue: the tabs (one per state, with their counts) and the tab's
// questions in the moderators' order, with one tab stop that j/k (or the arrows) move and
// the shortcuts a/d/x/r/h/s/e/m on the focused question. Items are keyed by question id, so
// a live update moves and patches them without taking the focus away; when the focused
// control does go (its question left the tab), the focus goes to the question now in its
// place.
import { html, useLayoutEffect, useReducer, useRef, useState } from "../html.js";
import { QueueItem } from "./moderation-item.js";
import {
  countsOf,
  emptyText,
  isTyping,
  keyCommand,
  mergeTargets,
  pickCurrent,
  queueOf,
  stepCurrent,
} from "./moderation.js";
import { formatNumber, t } from "../i18n.js";

/** The words this module's templates show, read when rendering (outside the templates,
 *  where the catalog's extractor finds them). */
const T = {
  get showQuestionsThatAre() { return t("Show questions that are"); },
  get loadingTheQuestions() { return t("Loading the questions…"); },
};

/** The tabs as the page rendered them: [{key, label, count}] (the count until the snapshot). */
export function readTabs(tablist) {
  return [...tablist.querySelectorAll("[role=tab]")].map((tab) => ({
    key: tab.dataset.filter,
    label: tab.firstChild.textContent.trim(),
    count: tab.querySelector("[data-count]")?.textContent.trim() ?? "",
  }));
}

function Tabs({ tabs, counts, filter, onSelect }) {
  const list = useRef(null);
  const keys = tabs.map((tab) => tab.key);
  const onKeyDown = (event) => {
    const focused = /** @type {HTMLElement} */ (document.activeElement);
    const index = list.current.contains(focused) ? keys.indexOf(focused.dataset.filter) : -1;
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: keys.length - 1 }[event.key];
    if (next === undefined || index < 0) return;
    event.preventDefault();
    const key = keys[(next + keys.length) % keys.length];
    list.current.querySelector(`[data-filter="${CSS.escape(key)}"]`).focus();
    onSelect(key);
  };
  return html`
    <div class="queue-tabs" role="tablist" aria-label=${T.showQuestionsThatAre} data-qa-tabs="" ref=${list} onKeyDown=${onKeyDown}>
      ${tabs.map(({ key, label, count }) => html`
        <button
          key=${key}
          type="button"
          role="tab"
          id=${`tab-${key}`}
          aria-controls="queue-panel"
          data-filter=${key}
          aria-selected=${String(key === filter)}
          tabindex=${key === filter ? 0 : -1}
          onClick=${() => onSelect(key)}
        >${`${label} `}<span class="tab-count" data-count=${key}>${counts ? formatNumber(counts[key]) : count}</span></button>`)}
    </div>`;
}

/**
 * The queue. ``moderation`` is what the console knows ({questions, highlighted}), null until
 * the first snapshot; ``busy`` the ids of questions with an action under way; ``actions``
 * does them: act(id, action, extra?) resolves to whether it went through,
 * toggle(id, on, off), showError(message).
 */
export function ModerationQueue({ tabs, moderation, busy, speakers, actions }) {
  const [filter, setFilter] = useState(tabs[0]?.key ?? "pending");
  const [forms, setForms] = useState(() => new Map());
  const [, refresh] = useReducer((n) => n + 1, 0);
  const cursor = useRef({ id: null, index: 0 });
  const list = useRef(null);
  const panel = useRef(null);
  const hadFocus = useRef(null);
  const focusNext = useRef(null);

  const questions = moderation?.questions ?? new Map();
  const shown = moderation ? queueOf(questions.values(), filter) : [];
  const ids = shown.map((q) => q.id);
  cursor.current = pickCurrent(ids, cursor.current);
  // What has the focus in the list now, before this render patches it.
  hadFocus.current = list.current?.contains(document.activeElement) ? document.activeElement : null;

  const article = (id) => list.current.querySelector(`article[data-question-id="${CSS.escape(id)}"]`);
  const focusCurrent = () => {
    const { id } = cursor.current;
    (id && article(id) || panel.current).focus();
  };

  useLayoutEffect(() => {
    const wanted = focusNext.current;
    const before = hadFocus.current;
    focusNext.current = null;
    hadFocus.current = null;
    if (wanted) {
      const target = wanted.article ? article(wanted.article) : list.current.querySelector(`#${CSS.escape(wanted.field)}`);
      target?.focus();
      if (target instanceof HTMLTextAreaElement) target.setSelectionRange(target.value.length, target.value.length);
      return;
    }
    if (!before || list.current.contains(document.activeElement)) return;
    const key = before.dataset?.focusKey;
    const same = key && list.current.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
    if (same) same.focus();
    else focusCurrent();
  });

  const choose = (id) => {
    if (id === cursor.current.id) return;
    cursor.current = { id, index: cursor.current.index };
    refresh();
  };
  const select = (key) => {
    cursor.current = { id: null, index: 0 };
    setFilter(key);
    refresh();
  };

  const setForm = (id, form) => setForms((open) => {
    const next = new Map(open);
    if (form) next.set(id, form);
    else next.delete(id);
    return next;
  });
  const close = (id) => {
    focusNext.current = { article: id };
    setForm(id, null);
  };
  const openEditor = (id) => {
    const question = questions.get(id);
    if (!question) return;
    focusNext.current = { field: `edit-${id}` };
    setForm(id, { kind: "edit", text: question.text });
  };
  const openMerge = (id) => {
    const targets = mergeTargets(questions.values(), id);
    if (targets.length === 0) return actions.showError(t("There is no other open question to merge this one into."));
    focusNext.current = { field: `merge-${id}` };
    setForm(id, { kind: "merge", targets, into: targets[0].id });
  };
  const run = (id, action) => {
    if (action === "edit") openEditor(id);
    else if (action === "merge") openMerge(id);
    else actions.act(id, action);
  };
  const save = async (id, text) => {
    if (await actions.act(id, "edit", { text })) close(id);
  };
  const merge = async (id, into) => {
    if (await actions.act(id, "merge", { into })) close(id);
  };

  const onKeyDown = (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    if (event.target.closest(".mod-editor")) return;
    const item = event.target.closest("article[data-question-id]");
    const command = item && keyCommand(event.key);
    if (!command) return;
    event.preventDefault();
    const id = item.dataset.questionId;
    if (command.move) {
      const next = stepCurrent(ids, cursor.current.id, command.move);
      if (!next) return;
      cursor.current = next;
      refresh();
      focusCurrent();
    } else if (command.act) actions.act(id, command.act);
    else if (command.toggle) actions.toggle(id, ...command.toggle);
    else if (command.open === "edit") openEditor(id);
    else if (command.open === "merge") openMerge(id);
  };

  return html`
    <${Tabs} tabs=${tabs} counts=${moderation && countsOf(questions.values())} filter=${filter} onSelect=${select} />
    <div id="queue-panel" class="queue-panel" role="tabpanel" aria-labelledby=${`tab-${filter}`} tabindex="-1" data-qa-queue-panel="" ref=${panel}>
      <ol class="mod-list" data-qa-queue="" ref=${list} onKeyDown=${onKeyDown}>
        ${shown.map((question) => html`
          <${QueueItem}
            key=${question.id}
            question=${question}
            highlighted=${question.id === moderation.highlighted}
            busy=${busy.has(question.id)}
            current=${question.id === cursor.current.id}
            speaker=${question.addressed_to && speakers.get(question.addressed_to)}
            mergedInto=${question.merged_into && questions.get(question.merged_into)?.text}
            form=${forms.get(question.id)}
            onChoose=${choose}
            onAction=${run}
            onFormChange=${setForm}
            onEdit=${save}
            onMerge=${merge}
            onClose=${close}
          />`)}
      </ol>
      <p class="qa-empty" data-qa-queue-empty="" hidden=${shown.length > 0}>${moderation ? emptyText(filter) : T.loadingTheQuestions}</p>
    </div>`;
}
