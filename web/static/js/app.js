// Progressive enhancement: pages work without this module.
import { localizeTimes } from "./local-time.js";
import { keepStatesCurrent } from "./session-state.js";

localizeTimes(document);
keepStatesCurrent(document);
