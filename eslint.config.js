// ESLint for the pages' ES modules (scripts/test runs it): the recommended rules, in the
// browser, as modules. hls.js under web/static/vendor is vendored unaltered and not linted.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["web/static/js/**/*.js", "web/static/lib/**/*.js"],
    languageOptions: { ecmaVersion: 2023, sourceType: "module", globals: { ...globals.browser } },
    rules: { "no-unused-vars": ["error", { args: "none", caughtErrors: "none" }] },
  },
];
