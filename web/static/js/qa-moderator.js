// The moderator console's Q&A (lib/qa/moderator-console.js): the queue by state, actions by
// button or keyboard, settings, backstage notes, live over the session's moderation topic.
import { ModeratorConsole } from "../lib/qa/moderator-console.js";

const root = document.querySelector("[data-qa-console]");
if (root) new ModeratorConsole(root).start();
