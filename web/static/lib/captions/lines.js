// A session's live captions as the page follows them: the languages they come in and the
// last lines of each, from the session's captions topic (a line corrected by its captioner
// replaces itself). Pure: no DOM, so node tests cover it.

/** Lines kept per language: what the overlay shows and a little more. */
export const KEPT = 3;

/** @typedef {{ id: string, language: string, text: string, at: string, corrected: boolean }} Cue */
/** @typedef {{ languages: string[], lines: Record<string, Cue[]> }} CaptionLines */

/** @returns {CaptionLines} */
export function fromSnapshot(snapshot) {
  /** @type {Record<string, Cue[]>} */
  const lines = {};
  for (const language of snapshot.languages ?? []) lines[language] = [...(snapshot.recent?.[language] ?? [])].slice(-KEPT);
  return { languages: [...(snapshot.languages ?? [])], lines };
}

/** ``state`` with ``cue`` added (or, for a corrected one, put in its place).
 *  @param {CaptionLines} state @param {Cue} cue @returns {CaptionLines} */
export function withCue(state, cue) {
  const current = state.lines[cue.language] ?? [];
  const at = current.findIndex((line) => line.id === cue.id);
  const lines = at >= 0 ? current.map((line, i) => (i === at ? cue : line)) : [...current, cue].slice(-KEPT);
  const languages = state.languages.includes(cue.language) ? state.languages : [...state.languages, cue.language];
  return { languages, lines: { ...state.lines, [cue.language]: lines } };
}

/** The language to show: the viewer's choice if there are captions in it, else the page's
 *  language if there are, else the first there is (null while there are none). */
export function chosenLanguage(state, wanted, pageLanguage) {
  for (const language of [wanted, pageLanguage]) if (language && state.languages.includes(language)) return language;
  return state.languages[0] ?? null;
}

/** The lines the overlay shows now: the last two, each for at most ``showMs`` after it came. */
export function showing(state, language, now, showMs = 8000) {
  const lines = state.lines[language] ?? [];
  return lines.slice(-2).filter((line) => now - Date.parse(line.at) < showMs);
}
