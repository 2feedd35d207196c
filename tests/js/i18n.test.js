// node --test: the modules' translations: t() with placeholders, nt() with each locale's
// plural categories, numbers in the page's locale, and English for what a catalog lacks.
import assert from "node:assert/strict";
import { test } from "node:test";

import { fill, formatNumber, nt, t, useMessages } from "../../web/static/lib/i18n.js";

test("a string the catalog lacks stays English, with its placeholders filled", () => {
  useMessages("en", {});
  assert.equal(t("Live"), "Live");
  assert.equal(t("{name} asked", { name: "Ann" }), "Ann asked");
  assert.equal(fill("{missing} stays", {}), "{missing} stays");
});

test("a translated string and its placeholders", () => {
  useMessages("fr", { "": ["one", "many", "other"], "{name} asked": "{name} a demandé" });
  assert.equal(t("{name} asked", { name: "Zoé" }), "Zoé a demandé");
});

test("plural forms follow the locale's categories in the catalog's order", () => {
  useMessages("ru", {
    "": ["one", "few", "many", "other"],
    "{count} vote": ["{count} голос", "{count} голоса", "{count} голосов"],
  });
  const votes = (n) => nt("{count} vote", "{count} votes", n);
  assert.deepEqual([1, 2, 5, 11, 21, 22].map(votes), [
    "1 голос", "2 голоса", "5 голосов", "11 голосов", "21 голос", "22 голоса",
  ]);
  assert.equal(votes(1.5), "1,5 голосов"); // "other": the last form there is
  useMessages("fr", { "": ["one", "many", "other"], "{count} vote": ["{count} vote", "{count} de votes", "{count} votes"] });
  assert.equal(nt("{count} vote", "{count} votes", 0), "0 vote"); // French counts 0 as one
  assert.equal(nt("{count} vote", "{count} votes", 3), "3 votes");
});

test("without a translation English picks singular or plural; numbers in the locale", () => {
  useMessages("de", {});
  assert.equal(nt("{count} vote", "{count} votes", 1), "1 vote");
  assert.equal(nt("{count} vote", "{count} votes", 1234), "1.234 votes");
  assert.equal(formatNumber(0.5, { style: "percent" }), "50\u00a0%"); // a no-break space
});
