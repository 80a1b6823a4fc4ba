// Tokenizes .arch files with the grammar, as VS Code does (vscode-textmate + oniguruma), and
// prints one JSON line per file: [[line, text, scopes], ...]. Used by tests/test_lsp.py
// (skipped where `npm install` has not run): `node test/tokenize.js FILE...`.
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const wasm = fs.readFileSync(path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm"));
const onigLib = oniguruma.loadWASM(wasm.buffer).then(() => ({
  createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
  createOnigString: (s) => new oniguruma.OnigString(s),
}));
const grammarPath = path.join(__dirname, "..", "syntaxes", "arch.tmLanguage.json");
const registry = new vsctm.Registry({
  onigLib,
  loadGrammar: async (scopeName) =>
    scopeName === "source.arch"
      ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath)
      : null,
});

registry.loadGrammar("source.arch").then((grammar) => {
  for (const file of process.argv.slice(2)) {
    let state = vsctm.INITIAL;
    const out = [];
    fs.readFileSync(file, "utf8").split("\n").forEach((line, n) => {
      const result = grammar.tokenizeLine(line, state);
      for (const t of result.tokens) {
        out.push([n, line.substring(t.startIndex, t.endIndex), t.scopes]);
      }
      state = result.ruleStack;
    });
    process.stdout.write(JSON.stringify(out) + "\n");
  }
});
