// The moderator console's recording panel: start or stop recording the session, add
// markers (the replay's chapters), and publish or unpublish each recording. The state
// comes from the session's recordings endpoint and is fetched again whenever the
// moderation topic says a recording, the wanted flag or a marker changed.
// Every text goes into the page with textContent, never as HTML.
import { ApiError, api, post } from "../lib/api.js";
import { clock, el } from "../lib/dom.js";
import { pageRealtime } from "../lib/realtime.js";
import { split, t } from "../lib/i18n.js";

const REFETCH_ON = new Set(["recording", "recording_wanted", "marker"]);
/** A recording's status, as its badge names it. */
function statusName(status) {
  switch (status) {
    case "recording": return t("Recording");
    case "processing": return t("Processing");
    case "published": return t("Published");
    case "review": return t("Waiting for review");
    case "hidden": return t("Hidden");
    default: return status;
  }
}

/** What a recording's status means, under it. */
function statusHint(status) {
  switch (status) {
    case "recording": return t("Being recorded now.");
    case "processing": return t("Working out its length and preview; it is published by itself when done.");
    case "published": return t("In the public archive.");
    case "review":
      return t("Recorded outside the session’s scheduled time (a camera test?): only this session’s moderators can watch it until you publish it.");
    case "hidden": return t("Not public: only this session’s moderators can watch it.");
    default: return "";
  }
}

/** A same-origin path for one of the server's absolute URLs. */
function pathOf(url) {
  try {
    const parsed = new URL(url, window.location.href);
    return `${parsed.pathname}${parsed.search}${parsed.hash}`;
  } catch {
    return url;
  }
}

function timeElement(iso) {
  const at = new Date(iso);
  return el("time", { datetime: iso, title: at.toISOString(), text: clock.format(at) });
}

class RecordingConsole {
  constructor(root) {
    this.root = root;
    this.code = root.dataset.sessionCode;
    this.find = (name) => root.querySelector(`[data-rec-${name}]`);
    this.state = null;
    this.loading = null;
    this.again = false;
    this.busy = new Set();
  }

  start() {
    this.find("toggle").addEventListener("change", (event) => this.setWanted(event.target.checked));
    this.find("marker-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.addMarker();
    });
    this.find("list").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-publish]");
      if (button) this.setPublished(button.dataset.recordingId, button.dataset.publish === "true");
    });
    pageRealtime().subscribe(`session:${this.code}:moderation`, {
      snapshot: () => this.refresh(), // also after every reconnect: whatever was missed
      event: (changes) => {
        if (changes.some((change) => REFETCH_ON.has(change.type))) this.refresh();
      },
      error: (error) => this.fail(error.message),
    });
    this.refresh();
  }

  // -- loading ----------------------------------------------------------------------------

  /** Fetch the state; a call while one is under way fetches once more after it. */
  refresh() {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        try {
          this.state = await api(`/api/sessions/${this.code}/recordings`);
          this.render();
        } catch (error) {
          this.fail(error instanceof ApiError ? error.message : t("The recording state could not be loaded."));
        }
      } while (this.again);
      this.loading = null;
    })();
    return this.loading;
  }

  // -- actions ----------------------------------------------------------------------------

  async run(key, action, done) {
    if (this.busy.has(key)) {
      this.render(); // undo what the second press showed
      return false;
    }
    this.busy.add(key);
    this.render();
    try {
      await action();
      this.say(done);
      return true;
    } catch (error) {
      this.fail(error instanceof ApiError ? error.message : String(error));
      return false;
    } finally {
      this.busy.delete(key);
      await this.refresh();
    }
  }

  setWanted(wanted) {
    return this.run(
      "toggle",
      () => post(`/api/sessions/${this.code}/recording`, { recording: wanted }),
      wanted ? t("Recording is on: the live stream is recorded.") : t("Recording stopped. The stream goes on."),
    );
  }

  async addMarker() {
    const field = this.find("marker-label");
    const label = field.value.trim();
    if (!label) {
      this.fail(t("Give the marker a label, such as the topic that starts now."));
      field.focus();
      return;
    }
    const added = await this.run(
      "marker",
      () => post(`/api/sessions/${this.code}/markers`, { label }),
      t("Marker “{label}” added.", { label }),
    );
    if (added) field.value = "";
    field.focus();
  }

  setPublished(id, published) {
    return this.run(
      `publish-${id}`,
      () => post(`/api/recordings/${id}/visibility`, { published }),
      published ? t("Published: the recording is in the public archive.") : t("Unpublished: the recording is hidden from the public."),
    );
  }

  // -- rendering --------------------------------------------------------------------------

  render() {
    const state = this.state;
    if (!state) return;
    const holder = /** @type {HTMLElement | null} */ (document.activeElement?.closest?.("[data-focus-key]"));
    const focused = holder?.dataset.focusKey;
    const doNotRecord = state.do_not_record || "doNotRecord" in this.root.dataset;
    const active = state.recordings.find((r) => r.status === "recording");
    const [label, kind, summary] = doNotRecord
      ? [t("Not recorded"), "off", t("The programme marks this session not recorded.")]
      : active
        ? [t("Recording"), "on", t("Recording since {time}.", { time: clock.format(new Date(active.started_at)) })]
        : state.recording
          ? [t("Ready"), "ready", t("Recording starts by itself while the stream is live.")]
          : [t("Stopped"), "off", t("Recording is off: the stream is not being recorded.")];
    const badge = this.find("state");
    badge.textContent = label;
    badge.className = `badge rec-state rec-state-${kind}`;
    this.root.dataset.recState = kind;
    this.find("summary").textContent = summary;

    const toggle = this.find("toggle");
    if (!this.busy.has("toggle")) toggle.checked = !doNotRecord && state.recording;
    toggle.disabled = doNotRecord;
    // Busy controls stay enabled (so they keep their focus); run() ignores a second press.

    this.renderFailure(state.recordings);
    this.renderRecordings(state.recordings);
    this.renderMarkers(state.markers);
    if (focused) this.root.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`)?.focus();
  }

  renderFailure(recordings) {
    const box = this.find("failure");
    const latest = recordings.at(-1);
    if (!latest?.error) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    box.hidden = false;
    box.replaceChildren(
      ...split(t("{failed} {error} What was recorded until then is kept. The stream is not affected."), {
        failed: el("strong", { text: t("Recording failed:") }),
        error: el("span", { text: latest.error }),
      }),
    );
  }

  renderRecordings(recordings) {
    const list = this.find("list");
    const empty = this.find("empty");
    empty.hidden = recordings.length > 0;
    empty.textContent = t("Nothing recorded yet.");
    list.replaceChildren(...[...recordings].reverse().map((r) => this.recordingItem(r)));
  }

  recordingItem(r) {
    const finished = ["published", "review", "hidden"].includes(r.status);
    const key = `publish-${r.id}`;
    const actions = el("p", { class: "rec-actions" });
    if (finished) {
      actions.append(el("a", { href: pathOf(r.page_url), text: t("Replay page") }));
      const publish = r.status !== "published";
      actions.append(
        el("button", {
          type: "button",
          class: "secondary",
          "data-publish": String(publish),
          "data-recording-id": r.id,
          "data-focus-key": key,
          "aria-disabled": this.busy.has(key) ? "true" : null,
          text: publish ? t("Publish") : t("Unpublish"),
        }),
      );
    }
    const length = r.status === "recording"
      ? t("in progress")
      : r.status === "processing" ? t("being processed") : r.duration;
    return el(
      "li",
      { class: `rec-item rec-item-${r.status}${r.error ? " has-error" : ""}`, "data-recording-id": r.id },
      el(
        "p",
        { class: "rec-item-head" },
        el("span", { class: `badge rec-status rec-status-${r.status}`, text: statusName(r.status) }),
        " ",
        ...split(t("Started {time}"), { time: timeElement(r.started_at) }),
        el("span", { class: "muted", text: ` · ${length}` }),
      ),
      r.error ? el("p", { class: "rec-error", text: t("Stopped early: {error}", { error: r.error }) }) : null,
      el("p", { class: "muted rec-item-hint", text: statusHint(r.status) }),
      actions.childElementCount ? actions : null,
    );
  }

  renderMarkers(markers) {
    const list = this.find("markers");
    this.find("markers-empty").hidden = markers.length > 0;
    list.replaceChildren(
      ...[...markers].reverse().map((marker) =>
        el("li", { "data-marker-id": marker.id }, timeElement(marker.at), " ", el("span", { text: marker.label })),
      ),
    );
  }

  // -- feedback ---------------------------------------------------------------------------

  say(message) {
    this.find("error").textContent = "";
    this.find("status").textContent = message;
  }

  fail(message) {
    this.find("status").textContent = "";
    this.find("error").textContent = message;
  }
}

const root = document.querySelector("[data-rec-console]");
if (root) new RecordingConsole(root).start();
