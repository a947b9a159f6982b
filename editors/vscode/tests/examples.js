// Tokenizes every .dpl file of the repository's examples and standard
// library with the grammar and checks what a reader relies on: comment
// lines are comments, declarations are declarations, field names are
// properties (so no string or comment leaks into the next line), and no
// token is marked invalid. Exit 1 with the findings otherwise.
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const root = path.resolve(__dirname, "../../..");
const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;

function files(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "out" ? [] : files(p);
    return e.name.endsWith(".dpl") ? [p] : [];
  });
}

async function main() {
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (s) => new oniguruma.OnigScanner(s),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async () =>
      vsctm.parseRawGrammar(
        fs.readFileSync(path.join(__dirname, "../syntaxes/deployc.tmLanguage.json"), "utf8"),
        "deployc.tmLanguage.json"
      ),
  });
  const grammar = await registry.loadGrammar("source.dpl");
  const declaration = /^(project|service|resource|environment|strategy|gate|integration|pipeline|observability|toolchain)(\s+[A-Za-z_]|\s*\{)/;
  const field = /^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=(?!=)/;
  const problems = [];
  const counts = { files: 0, lines: 0, comments: 0, declarations: 0, fields: 0 };
  for (const file of [...files(path.join(root, "examples")), ...files(path.join(root, "stdlib"))]) {
    counts.files++;
    let stack = vsctm.INITIAL;
    const lines = fs.readFileSync(file, "utf8").split("\n");
    lines.forEach((line, i) => {
      counts.lines++;
      const r = grammar.tokenizeLine(line, stack);
      stack = r.ruleStack;
      const where = `${path.relative(root, file)}:${i + 1}`;
      const at = (col) => (r.tokens.find((t) => t.startIndex <= col && col < t.endIndex) || { scopes: [] }).scopes;
      for (const t of r.tokens) {
        if (t.scopes.some((s) => s.startsWith("invalid."))) problems.push(`${where}: invalid token ${line.slice(t.startIndex, t.endIndex)}`);
      }
      const first = line.search(/\S/);
      if (first < 0) return;
      if (line.slice(first).startsWith("//")) {
        counts.comments++;
        if (!at(first).some((s) => s.startsWith("comment.line"))) problems.push(`${where}: comment not scoped: ${at(first)}`);
      } else if (declaration.test(line)) {
        counts.declarations++;
        if (!at(0).includes("keyword.other.declaration.dpl")) problems.push(`${where}: declaration not scoped: ${at(0)}`);
      } else if (field.test(line) && !at(first).some((s) => s.startsWith("comment.block"))) {
        counts.fields++;
        if (!at(first).includes("variable.other.property.dpl")) problems.push(`${where}: field not scoped: ${at(first)}`);
      }
    });
  }
  console.log(`examples.js: ${counts.files} files, ${counts.lines} lines; ${counts.comments} comment lines, ${counts.declarations} declarations, ${counts.fields} fields checked`);
  if (counts.files < 5 || counts.declarations === 0) problems.push("no example files found");
  if (problems.length) {
    console.error(problems.join("\n"));
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
