// The captioner's page: mounts the caption writer for this session and language.
import { mountCaptioner } from "../lib/captions/captioner.js";

const root = document.querySelector("[data-captioner]");
if (root instanceof HTMLElement) mountCaptioner(root);
