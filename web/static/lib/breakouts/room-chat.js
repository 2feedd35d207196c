// The break-out room's chat: the messages so far (kept at the end while the reader is
// there, or when they wrote one) and the form that sends one (Enter sends, Shift+Enter starts
// a new line). The field is the browser's own: live updates never touch what is typed.
// Every text from a participant is rendered as text, never as HTML.
import { clock } from "../dom.js";
import { html, useLayoutEffect, useMemo, useRef } from "../html.js";
import { t } from "../i18n.js";

/** The words this module's templates show, read when rendering (outside the templates,
 *  where the catalog's extractor finds them). */
const T = {
  get chat() { return t("Chat"); },
  get noMessagesYetSayHello() { return t("No messages yet. Say hello to your room."); },
  get messageToEveryoneInThis() { return t("Message to everyone in this room"); },
  get enterSendsShiftEnterStarts() { return t("Enter sends, Shift+Enter starts a new line."); },
  get send() { return t("Send"); },
};

const NEAR_THE_END_PX = 48;

/** One message; those the server rendered keep their localised <time> as local-time.js left it. */
function ChatMessage({ message, mine, fromPage }) {
  const at = new Date(message.at);
  return html`
    <li class=${`chat-message${mine ? " is-mine" : ""}`} data-message-id=${message.id}>
      <p class="chat-meta"><span class="chat-author">${message.author}</span> <time
        datetime=${message.at}
        data-local=${fromPage ? "time" : undefined}
        title=${fromPage && !Number.isNaN(at.getTime()) ? at.toISOString() : undefined}
      >${Number.isNaN(at.getTime()) ? "" : clock.format(at)}</time></p>
      <p class="chat-text">${message.text}</p>
    </li>
  `;
}

/** @param {{session: import("./room-session.js").RoomSession}} props */
export function RoomChat({ session }) {
  const log = useRef(/** @type {HTMLDivElement | null} */ (null));
  const field = useRef(/** @type {HTMLTextAreaElement | null} */ (null));
  const shown = useRef(/** @type {number | null} */ (null));
  const fromPage = useMemo(() => new Set(session.page.chat.map((message) => message.id)), [session]);
  const messages = session.messages;
  const me = session.me;

  // Whether the reader is at the end of the log, measured before new messages go in.
  const element = log.current;
  const atEnd = !element || element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_THE_END_PX;
  useLayoutEffect(() => {
    const element = log.current;
    const before = shown.current;
    shown.current = messages.length;
    if (before === null) {
      element.scrollTop = element.scrollHeight; // the page opens at the latest message
      return;
    }
    const added = messages.slice(before);
    if (added.length && (atEnd || added.some((message) => message.author_id === me))) {
      element.scrollTop = element.scrollHeight;
    }
  }, [messages]);

  async function send() {
    const input = field.current;
    const text = input.value.trim();
    if (!text || session.sending) return;
    const sent = await session.sendChat(text);
    if (sent) input.value = "";
    input.focus();
  }

  function onKeyDown(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  }

  function onSubmit(event) {
    event.preventDefault();
    send();
  }

  return html`
    <section class="room-chat" aria-labelledby="chat-heading">
      <h2 id="chat-heading">${T.chat}</h2>
      <div class="chat-log" role="log" aria-labelledby="chat-heading" tabindex="0" data-breakout-chat-log="" ref=${log}>
        <ol class="chat-list" data-breakout-chat="">
          ${messages.map(
            (message) => html`<${ChatMessage}
              key=${message.id}
              message=${message}
              mine=${message.author_id === me}
              fromPage=${fromPage.has(message.id)}
            />`,
          )}
        </ol>
        <p class="chat-empty" data-breakout-chat-empty="" hidden=${messages.length > 0}>${T.noMessagesYetSayHello}</p>
      </div>
      <form class="chat-form" data-breakout-chat-form="" novalidate="" onSubmit=${onSubmit}>
        <label for="chat-text">${T.messageToEveryoneInThis}</label>
        <textarea
          id="chat-text"
          name="text"
          rows="2"
          maxlength="1000"
          aria-describedby="chat-hint"
          data-breakout-chat-text=""
          ref=${field}
          onKeyDown=${onKeyDown}
        ></textarea>
        <div class="chat-form-row">
          <p class="chat-hint muted" id="chat-hint">${T.enterSendsShiftEnterStarts}</p>
          <button type="submit" disabled=${session.sending}>${T.send}</button>
        </div>
      </form>
    </section>
  `;
}
