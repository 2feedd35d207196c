// WebRTC over plain HTTP, as WHIP and WHEP do it: the browser's RTCPeerConnection gathers its
// candidates, POSTs one SDP offer, applies the answer, and keeps the Location the server
// names for the session so that leaving can DELETE it. The live player, the studio and the
// break-out rooms' calls all connect this way.
import { csrfToken } from "./api.js";
import { t } from "./i18n.js";

const GATHERING_LIMIT_MS = 2000;

/** Resolve once the peer has gathered its ICE candidates, or after ``limit`` milliseconds:
 *  the server is on a known host, so the candidates gathered so far are enough. */
export function waitForIceGathering(peer, limit = GATHERING_LIMIT_MS) {
  if (peer.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      peer.removeEventListener("icegatheringstatechange", changed);
      resolve();
    };
    const changed = () => {
      if (peer.iceGatheringState === "complete") finish();
    };
    const timer = setTimeout(finish, limit);
    peer.addEventListener("icegatheringstatechange", changed);
  });
}

/** The server refused an offer: ``status`` 0 when it could not be reached, ``retryAfter``
 *  in seconds when it said when to try again (409 while there is nothing to watch yet). */
export class SignalingError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.name = "SignalingError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** Offer ``peer``'s transceivers to ``endpoint`` and apply the answer. Answers the URL of
 *  the session on the server (the response's Location), to hand to ``disconnect``. */
export async function connect(peer, endpoint) {
  await peer.setLocalDescription(await peer.createOffer());
  await waitForIceGathering(peer);
  let response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/sdp", "X-CSRF-Token": csrfToken() },
      body: peer.localDescription.sdp,
      credentials: "same-origin",
    });
  } catch {
    throw new SignalingError(0, "network", t("The server cannot be reached."));
  }
  if (response.status !== 201) {
    const body = await response.json().catch(() => null);
    const retryAfter = Number(response.headers.get("Retry-After")) || null;
    throw new SignalingError(
      response.status,
      body?.error?.code ?? `http.${response.status}`,
      body?.error?.message ?? t("The server answered {status}.", { status: response.status }),
      retryAfter,
    );
  }
  const resource = response.headers.get("Location");
  await peer.setRemoteDescription({ type: "answer", sdp: await response.text() });
  return resource;
}

/** End a session that ``connect`` opened. Survives the page going away (keepalive), never
 *  throws: the server also ends sessions whose peer goes quiet. */
export function endSession(resource) {
  if (!resource) return Promise.resolve();
  return fetch(resource, {
    method: "DELETE",
    headers: { "X-CSRF-Token": csrfToken() },
    credentials: "same-origin",
    keepalive: true,
  }).then(
    () => undefined,
    () => undefined,
  );
}

/** Leave a session: DELETE it, then close the peer. Closing first would race the DELETE:
 *  the server ends a session whose peer closes, and the DELETE would then find nothing. */
export function disconnect(peer, resource) {
  if (!resource) {
    peer?.close();
    return Promise.resolve();
  }
  return endSession(resource).then(() => peer?.close());
}
