// The archc extension: the .arch language (grammar and editing rules come from package.json)
// and a client for `archc lsp`, the language server, which serves .arch and archc YAML files.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("archc");
  // An Executable without `transport` talks over the process's stdin/stdout and adds no
  // arguments (TransportKind.stdio would append --stdio, which `archc lsp` does not take).
  const serverOptions = {
    command: config.get("server.command", "archc"),
    args: config.get("server.args", ["lsp"]),
  };
  const documentSelector = [{ scheme: "file", language: "arch" }];
  if (config.get("yaml", true)) {
    documentSelector.push({ scheme: "file", language: "yaml" });
  }
  const clientOptions = {
    documentSelector,
    initializationOptions: { debounce: config.get("debounce", 0) },
  };
  client = new LanguageClient("archc", "archc language server", serverOptions, clientOptions);
  context.subscriptions.push({ dispose: () => client && client.stop() });
  client.start().catch((err) => {
    vscode.window.showErrorMessage(
      `archc: could not start '${serverOptions.command} ${serverOptions.args.join(" ")}' ` +
        `(install it in an archc checkout with pip install -e '.[lsp]', or set archc.server.command): ${err.message || err}`
    );
  });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
