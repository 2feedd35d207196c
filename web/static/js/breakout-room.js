// A break-out room: the members' video call, the room's chat, the round's clock and the
// moderators' messages. The call is lib/breakouts/room-call.js, the room's state (and where
// this person belongs) room-session.js, and room-view.js renders both into the page, in
// place of what the server rendered.
import { html, render } from "../lib/html.js";
import { RoomCall } from "../lib/breakouts/room-call.js";
import { RoomSession, readRoomPage } from "../lib/breakouts/room-session.js";
import { RoomPage } from "../lib/breakouts/room-view.js";

const root = /** @type {HTMLElement | null} */ (document.querySelector("[data-breakout-room]"));
if (root) {
  const page = readRoomPage(root);
  const call = new RoomCall(page);
  const session = new RoomSession(page, call);
  root.replaceChildren();
  render(html`<${RoomPage} session=${session} call=${call} root=${root} />`, root);
  session.start();
}
