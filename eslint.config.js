// eslint for the pages' JavaScript: browser code served as it is written (no build step), so
// what the linter reads is what Chromium runs. `make lint` and `make test` run it.
import js from "@eslint/js";
import globals from "globals";

export default [
  {
    ignores: ["**/vendor/**", "node_modules/", ".venv/", "var/", "build/", "tests/artifacts/",
              "benchmarks/out/"],
  },
  js.configs.recommended,
  {
    files: ["*/static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser, io: "readonly" }, // io: the vendored Socket.IO client
    },
    rules: {
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-var": "error",
      "prefer-const": "error",
      "no-shadow": "error",
      "no-unused-vars": ["error", { caughtErrors: "none" }],
      "no-implicit-globals": "error",
    },
  },
  {
    // The citizen's phone page runs on old Android browsers: one classic script, ES2017 only
    // (no `?.`, no `??`, no modules), so the parser refuses anything newer.
    files: ["citizen/static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2017,
      sourceType: "script",
      globals: { ...globals.browser, io: "readonly" },
    },
  },
  {
    // The casework page's first read, inlined into the page ahead of its modules: a classic
    // script, so it runs as the HTML is parsed.
    files: ["office/static/cases/early.js"],
    languageOptions: { sourceType: "script" },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { globals: globals.node },
  },
];
