// The door's check-in page: the phone's camera reads tickets' QR codes, and the typed code
// and the search by name work without a reload (lib/registrations/check-in.js).
import { mountCheckIn } from "../lib/registrations/check-in.js";

const root = document.querySelector("[data-check-in]");
if (root instanceof HTMLElement) mountCheckIn(root);
