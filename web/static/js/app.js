// Progressive enhancement: pages work without this module.
import { localizeTimes } from "../lib/local-time.js";
import { keepStatesCurrent } from "../lib/session-state.js";

localizeTimes(document);
keepStatesCurrent(document);
