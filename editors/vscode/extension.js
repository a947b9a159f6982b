// The VS Code client of `deployc lsp`: diagnostics, hover, completion,
// definition, references, rename, formatting and quick fixes all come from
// the server; highlighting from syntaxes/deployc.tmLanguage.json.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

exports.activate = (context) => {
  const command = vscode.workspace.getConfiguration("deployc").get("path") || "deployc";
  client = new LanguageClient(
    "deployc",
    "deployc",
    { command, args: ["lsp"] },
    { documentSelector: [{ scheme: "file", language: "dpl" }] }
  );
  context.subscriptions.push(client);
  return client.start();
};

exports.deactivate = () => (client ? client.stop() : undefined);
