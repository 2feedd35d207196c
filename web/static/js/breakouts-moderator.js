// The moderator console's break-outs panel (lib/breakouts/console-panel.js): plan the rooms,
// place people, run the round, answer help requests, visit, close with a countdown.
import { BreakoutsConsole } from "../lib/breakouts/console-panel.js";
import { html, render } from "../lib/html.js";

const root = /** @type {HTMLElement | null} */ (document.querySelector("[data-bo-console]"));
if (root) {
  root.replaceChildren(); // the template's "Loading" header: the panel draws its own
  render(html`<${BreakoutsConsole} root=${root} />`, root);
}
