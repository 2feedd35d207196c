// The moderator console's plan form: the rooms (name, topic, seats), who goes where, saved in
// one go. It follows the server's rooms until the moderator edits it; from then on what they
// typed stays, whatever the live updates say, until it is saved.
import { post } from "../api.js";
import { html, useLayoutEffect, useRef, useState } from "../html.js";
import { fill, nt, t } from "../i18n.js";
import {
  MAX_ROOMS,
  PlanError,
  modeHint,
  newPlanRow,
  planRowsFrom,
  planWording,
  readPlan,
} from "./console-text.js";

/** The words this module's templates show, read when rendering (outside the templates,
 *  where the catalog's extractor finds them). */
const T = {
  get name() { return t("Name"); },
  get topic() { return t("Topic"); },
  get optional() { return t("(optional)"); },
  get seats() { return t("Seats"); },
  get remove() { return t("Remove"); },
  get addARoom() { return t("Add a room"); },
  get whoGoesWhere() { return t("Who goes where"); },
  get nameOfRoomN() { return t("Name of room {n}"); },
  get topicOfRoomN() { return t("Topic of room {n}"); },
  get seatsInRoomN() { return t("Seats in room {n}"); },
  get removeRoomN() { return t("Remove room {n}"); },
};

/** The ways people get their rooms, as the plan's radio buttons name them. */
const modes = () => [
  ["auto", t("Assigned automatically")],
  ["manual", t("I place people")],
  ["self", t("People choose")],
];

let rowIds = 0;
const newKey = () => `bo-row-${++rowIds}`;

export function PlanForm({ state, hidden, console: ctl }) {
  const [rows, setRows] = useState(/** @type {import("./console-text.js").PlanRow[]} */ ([]));
  const [assignment, setAssignment] = useState("auto");
  const [invalid, setInvalid] = useState(/** @type {{ key: string, field: string } | null} */ (null));
  const [saving, setSaving] = useState(false);
  const dirty = useRef(false);
  const focusNext = useRef(/** @type {{ id: string, select?: boolean } | null} */ (null));

  // Follow the server's rooms while the round is being planned and nothing was edited.
  useLayoutEffect(() => {
    if (hidden || dirty.current) return;
    setRows((previous) => planRowsFrom(state, previous, newKey));
    setAssignment(state.assignment);
    setInvalid(null);
  }, [state]);

  useLayoutEffect(() => {
    const next = focusNext.current;
    if (!next) return;
    focusNext.current = null;
    const field = /** @type {HTMLInputElement | null} */ (document.getElementById(next.id));
    if (next.select) field?.select();
    field?.focus();
  });

  const edit = (key, field, value) => {
    setRows((current) => current.map((row) => (row.key === key ? { ...row, [field]: value } : row)));
  };

  const addRoom = () => {
    if (rows.length >= MAX_ROOMS) return ctl.fail(t("At most {count} rooms.", { count: MAX_ROOMS }));
    dirty.current = true;
    const row = newPlanRow(newKey(), rows.length);
    setRows([...rows, row]);
    focusNext.current = { id: `${row.key}-name`, select: true };
  };

  const removeRoom = (index) => {
    if (rows.length <= 1) return ctl.fail(t("Keep at least one room."));
    dirty.current = true;
    const left = rows.filter((_, i) => i !== index);
    setRows(left);
    const next = left[Math.min(index, left.length - 1)];
    focusNext.current = { id: next ? `${next.key}-remove` : "bo-add-room" };
  };

  const save = async (event) => {
    event.preventDefault();
    let plan;
    try {
      plan = readPlan(rows, assignment);
      setInvalid(null);
    } catch (error) {
      if (error instanceof PlanError) {
        const key = rows[error.index].key;
        setInvalid({ key, field: error.field });
        focusNext.current = { id: `${key}-${error.field}` };
      }
      ctl.fail(error.message);
      return;
    }
    const again = state?.planned && state.phase === "planning";
    setSaving(true);
    try {
      await post(`${ctl.base}/plan`, plan);
      dirty.current = false;
      setRows((current) => current.map((row, index) => ({ ...row, room_id: plan.rooms[index]?.room_id ?? row.room_id })));
      ctl.say(again
        ? t("Rooms saved.")
        : nt("{count} room created. Participants can now take part.", "{count} rooms created. Participants can now take part.", plan.rooms.length));
    } catch (error) {
      ctl.fail(error.message);
    } finally {
      setSaving(false);
    }
  };

  const wording = planWording(state);
  const markDirty = () => {
    dirty.current = true;
  };
  return html`
    <form class="bo-plan" aria-labelledby="bo-plan-heading" data-bo-plan="" novalidate="" hidden=${hidden}
          onInput=${markDirty} onChange=${markDirty} onSubmit=${save}>
      <h3 id="bo-plan-heading" data-bo-plan-heading="">${wording.heading}</h3>
      <table class="bo-plan-table">
        <thead>
          <tr>
            <th scope="col">${T.name}</th>
            <th scope="col">${T.topic} <span class="muted">${T.optional}</span></th>
            <th scope="col">${T.seats}</th>
            <th scope="col"><span class="visually-hidden">${T.remove}</span></th>
          </tr>
        </thead>
        <tbody data-bo-plan-rows="">
          ${rows.map((row, index) => html`
            <${PlanRow} key=${row.key} row=${row} n=${index + 1} invalid=${invalid?.key === row.key ? invalid.field : null}
                        edit=${edit} remove=${() => removeRoom(index)} />
          `)}
        </tbody>
      </table>
      <p><button type="button" class="secondary" id="bo-add-room" data-bo-add-room="" onClick=${addRoom}>${T.addARoom}</button></p>
      <fieldset class="segmented bo-mode" data-bo-mode="">
        <legend>${T.whoGoesWhere}</legend>
        ${modes().map(([value, label]) => html`
          <label key=${value}><input type="radio" name="bo-assignment" value=${value} checked=${assignment === value}
                                     onChange=${() => setAssignment(value)} /> ${label}</label>
        `)}
      </fieldset>
      <p class="muted bo-mode-hint" data-bo-mode-hint="">${modeHint(assignment)}</p>
      <button type="submit" data-bo-plan-submit="" disabled=${saving}>${wording.submit}</button>
    </form>
  `;
}

/** One room of the plan; its fields are labelled by its place: "Name of room 2". */
function PlanRow({ row, n, invalid, edit, remove }) {
  const field = (name) => ({
    id: `${row.key}-${name}`,
    "data-field": name,
    value: row[name],
    onInput: (event) => edit(row.key, name, event.currentTarget.value),
  });
  return html`
    <tr data-room-id=${row.room_id}>
      <td><input ...${field("name")} maxlength="80" required autocomplete="off" aria-label=${fill(T.nameOfRoomN, { n })}
                 aria-invalid=${invalid === "name" ? "true" : undefined} /></td>
      <td><input ...${field("topic")} maxlength="280" autocomplete="off" aria-label=${fill(T.topicOfRoomN, { n })} /></td>
      <td class="bo-seats"><input ...${field("capacity")} type="number" min="2" max="50" step="1" inputmode="numeric" required
                                  aria-label=${fill(T.seatsInRoomN, { n })} aria-invalid=${invalid === "capacity" ? "true" : undefined} /></td>
      <td><button type="button" class="secondary bo-remove" id=${`${row.key}-remove`} data-remove-room=""
                  aria-label=${fill(T.removeRoomN, { n })} onClick=${remove}>${T.remove}</button></td>
    </tr>
  `;
}
