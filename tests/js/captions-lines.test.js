// node --test: the captions the player follows (lines per language, corrections in place,
// which language to show and which lines are still up), and who a booth says is on air.
import assert from "node:assert/strict";
import { test } from "node:test";

import { KEPT, chosenLanguage, fromSnapshot, showing, withCue } from "../../web/static/lib/captions/lines.js";

const cue = (id, language, text, at = "2026-05-11T10:00:00Z", corrected = false) => ({ id, language, text, at, corrected });

test("a snapshot's languages and lines, then new lines kept to the last few", () => {
  let state = fromSnapshot({ languages: ["fr"], recent: { fr: [cue("a", "fr", "Bonjour")] } });
  assert.deepEqual(state.languages, ["fr"]);
  for (const [index, text] of ["un", "deux", "trois", "quatre"].entries()) state = withCue(state, cue(`n${index}`, "fr", text));
  assert.equal(state.lines.fr.length, KEPT);
  assert.deepEqual(state.lines.fr.map((line) => line.text), ["deux", "trois", "quatre"]);
  state = withCue(state, cue("d1", "de", "Hallo"));
  assert.deepEqual(state.languages, ["fr", "de"]);
});

test("a corrected line takes its own place", () => {
  let state = fromSnapshot({ languages: [], recent: {} });
  state = withCue(state, cue("a", "fr", "Bonjuor"));
  state = withCue(state, cue("b", "fr", "Suite"));
  state = withCue(state, cue("a", "fr", "Bonjour", undefined, true));
  assert.deepEqual(state.lines.fr.map((line) => [line.id, line.text]), [["a", "Bonjour"], ["b", "Suite"]]);
});

test("the viewer's language, else the page's, else the first there is", () => {
  const state = fromSnapshot({ languages: ["fr", "de"], recent: {} });
  assert.equal(chosenLanguage(state, "de", "fr"), "de");
  assert.equal(chosenLanguage(state, "it", "de"), "de");
  assert.equal(chosenLanguage(state, null, "ru"), "fr");
  assert.equal(chosenLanguage(fromSnapshot({ languages: [], recent: {} }), "fr", "fr"), null);
});

test("the last two lines show, each for a while after it came", () => {
  const at = (seconds) => new Date(Date.UTC(2026, 4, 11, 10, 0, seconds)).toISOString();
  let state = fromSnapshot({ languages: [], recent: {} });
  for (const [id, seconds] of [["a", 0], ["b", 5], ["c", 9]]) state = withCue(state, cue(id, "fr", id, at(seconds)));
  const now = Date.parse(at(10));
  assert.deepEqual(showing(state, "fr", now).map((line) => line.id), ["b", "c"]);
  assert.deepEqual(showing(state, "fr", now + 4000).map((line) => line.id), ["c"]);
  assert.deepEqual(showing(state, "de", now), []);
});
