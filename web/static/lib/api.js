// fetch() for the JSON API: sends the page's CSRF token, answers parsed JSON, and throws an
// ApiError carrying the server's stable code and its human message.
import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

export function csrfToken() {
  const meta = /** @type {HTMLMetaElement | null} */ (document.querySelector('meta[name="csrf-token"]'));
  return meta?.content ?? "";
}

async function readJson(response) {
  const type = response.headers.get("Content-Type") ?? "";
  if (!type.includes("application/json")) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/**
 * @param {string} path
 * @param {{ method?: string, body?: unknown }} [options]
 */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError("network", t("The server cannot be reached. Check your connection and try again."), 0);
  }
  const data = await readJson(response);
  if (!response.ok) {
    const error = data?.error ?? {};
    throw new ApiError(
      error.code ?? `http.${response.status}`,
      error.message ?? t("The server answered {status}. Try again.", { status: response.status }),
      response.status,
    );
  }
  return data;
}

export const post = (path, body = {}) => api(path, { method: "POST", body });
export const del = (path) => api(path, { method: "DELETE" });
