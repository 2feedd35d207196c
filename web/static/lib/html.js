// Preact with htm: components written as tagged templates and rendered without a build step.
// Both are vendored from npm (scripts/vendor_preact.py). A template's ${values} become text
// nodes or properties, never HTML, so a participant's words cannot inject markup.
import { h } from "../vendor/preact/preact.mjs";
import htm from "../vendor/preact/htm.mjs";

export const html = htm.bind(h);

export { Fragment, createRef, h, render } from "../vendor/preact/preact.mjs";
export {
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useReducer,
  useRef,
  useState,
} from "../vendor/preact/hooks.mjs";
