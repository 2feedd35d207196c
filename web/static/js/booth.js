// An interpreter's booth page: mounts the booth for this session and language.
import { mountBooth } from "../lib/interpretation/booth.js";

const root = document.querySelector("[data-booth]");
if (root instanceof HTMLElement) mountBooth(root);
