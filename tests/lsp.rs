//! `deployc lsp` end to end: the real binary, a real LSP exchange over pipes
//! with Content-Length framing, as an editor drives it.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(30);

const MAIN: &str = r#"import "std/strategies"
import "./integrations.dpl"

project shop {
  repository = "github.com/acme/shop"
  registry   = ghcr { owner = "acme" }
  domain     = "shop.example.dev"
}

service api {
  language = node
  port     = 8080
  env { DATABASE_URL = db.url }
}

resource db = postgres { version = "16" }

environment dev  { promote = on_push("main") notify = [slack] }
environment prod { promote = manual(from = dev) strategy = canary-standrd }
"#;

const INTEGRATIONS: &str = "integration slack = slack { channel = \"#shop\" webhook = secret(\"slack-webhook\") }\n";

struct Server {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    /// Notifications received while waiting for responses.
    notifications: Vec<Value>,
    next_id: i64,
}

impl Server {
    fn start(workspace: &Path, cache: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_deployc"))
            .arg("lsp")
            .current_dir(workspace)
            .env("XDG_CACHE_HOME", cache.canonicalize().expect("cache dir"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("deployc lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, messages) = mpsc::channel();
        // Reads framed messages until the server closes stdout.
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        length = v.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("Content-Length header")];
                r.read_exact(&mut body).expect("message body");
                if tx.send(serde_json::from_slice(&body).expect("JSON body")).is_err() {
                    return;
                }
            }
        });
        Server { child, stdin, messages, notifications: Vec::new(), next_id: 1 }
    }

    fn send(&mut self, msg: Value) {
        let body = serde_json::to_string(&msg).expect("serialise");
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write to server");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and waits for its response, keeping notifications that come first.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let msg = self.messages.recv_timeout(TIMEOUT).expect("a response in time");
            if msg["id"] == id {
                assert!(msg.get("error").is_none(), "{method} failed: {msg}");
                return msg["result"].clone();
            }
            self.notifications.push(msg);
        }
    }

    /// Waits for `publishDiagnostics` for `uri`.
    fn diagnostics_for(&mut self, uri: &str) -> Vec<Value> {
        let is_it = |m: &Value| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri;
        if let Some(i) = self.notifications.iter().position(is_it) {
            let m = self.notifications.remove(i);
            return m["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
        }
        loop {
            let msg = self.messages.recv_timeout(TIMEOUT).expect("diagnostics in time");
            if is_it(&msg) {
                return msg["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
            }
            self.notifications.push(msg);
        }
    }

    fn wait(mut self) -> i32 {
        drop(self.stdin);
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code().unwrap_or(-1);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        panic!("deployc lsp did not exit");
    }
}

/// Line and UTF-16 column of `needle` in `text`, plus `skip` characters.
fn pos(text: &str, needle: &str, skip: usize) -> Value {
    let off = text.find(needle).expect("needle") + skip;
    let line = text[..off].matches('\n').count();
    let col = text[..off].rsplit('\n').next().map(|l| l.encode_utf16().count()).unwrap_or(0);
    json!({ "line": line, "character": col })
}

#[test]
fn an_editor_session_over_stdio() {
    let ws = tempfile::tempdir().expect("workspace");
    let cache = tempfile::tempdir().expect("cache");
    std::fs::write(ws.path().join("integrations.dpl"), INTEGRATIONS).expect("write");
    let main_path = ws.path().join("main.dpl");
    std::fs::write(&main_path, MAIN).expect("write");
    let root = url(ws.path());
    let main = format!("{root}/main.dpl");
    let mut s = Server::start(ws.path(), cache.path());

    let init = s.request("initialize", json!({ "processId": null, "rootUri": root, "capabilities": {} }));
    let caps = &init["capabilities"];
    for cap in
        ["hoverProvider", "definitionProvider", "completionProvider", "documentSymbolProvider", "codeActionProvider"]
    {
        assert!(!caps[cap].is_null(), "{cap} missing: {caps}");
    }
    assert_eq!(init["serverInfo"]["name"], "deployc");
    s.notify("initialized", json!({}));

    // didOpen with a misspelt strategy: E0201 on exactly the misspelt name.
    s.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": main, "languageId": "dpl", "version": 1, "text": MAIN } }),
    );
    let diags = s.diagnostics_for(&main);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "E0201");
    assert_eq!(diags[0]["message"], "unknown strategy `canary-standrd`");
    let range = json!({ "start": pos(MAIN, "canary-standrd", 0), "end": pos(MAIN, "canary-standrd", 14) });
    assert_eq!(diags[0]["range"], range);
    // The imported file, read from disk, is clean.
    assert_eq!(s.diagnostics_for(&format!("{root}/integrations.dpl")), Vec::<Value>::new());

    let at =
        |needle: &str, skip: usize| json!({ "textDocument": { "uri": main }, "position": pos(MAIN, needle, skip) });

    // Hover on a field: its type, units and doc from the schema.
    let hover = s.request("textDocument/hover", at("port     =", 1));
    let text = hover["contents"]["value"].as_str().expect("markdown");
    assert!(text.starts_with("**port**: port · default `none`"), "{text}");
    assert!(text.contains("Container port; a service without one gets no Kubernetes Service."), "{text}");

    // Definition across files, and into the standard library.
    let def = s.request("textDocument/definition", at("[slack]", 2));
    assert_eq!(def["uri"], format!("{root}/integrations.dpl"));
    assert_eq!(def["range"]["start"], json!({ "line": 0, "character": 12 }));
    let def = s.request("textDocument/definition", at("language = node", 12));
    let uri = def["uri"].as_str().expect("uri");
    let expected_dir = url(cache.path()) + "/deployc/stdlib/";
    assert!(uri.starts_with(&expected_dir) && uri.ends_with("/std/toolchains.dpl"), "{uri}");
    let file = lsp_path(uri);
    let on_disk = std::fs::read_to_string(&file).expect("stdlib materialised");
    assert_eq!(on_disk, deployc::load::stdlib_module("std/toolchains").expect("embedded"));
    assert!(std::fs::metadata(&file).expect("metadata").permissions().readonly(), "stdlib copies are read-only");
    assert_eq!(def["range"]["start"], pos(&on_disk, "toolchain node", 10));

    // Completion of the environments where `from` expects one.
    let items = s.request("textDocument/completion", at("from = dev", 7));
    let labels: Vec<&str> = items.as_array().expect("items").iter().filter_map(|i| i["label"].as_str()).collect();
    assert_eq!(labels, ["dev", "prod"]);

    // The checker's suggestion as a quick fix.
    let actions = s.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": main }, "range": range, "context": { "diagnostics": diags } }),
    );
    let fix = &actions[0];
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["title"], "Replace `canary-standrd` with `canary-standard`");
    assert_eq!(fix["edit"]["changes"][&main], json!([{ "range": range, "newText": "canary-standard" }]));

    // Applying it (as the editor would) clears the diagnostics.
    s.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": main, "version": 2 }, "contentChanges": [{ "range": range, "text": "canary-standard" }] }),
    );
    assert_eq!(s.diagnostics_for(&main), Vec::<Value>::new());

    assert_eq!(s.request("shutdown", Value::Null), Value::Null);
    s.notify("exit", Value::Null);
    assert_eq!(s.wait(), 0, "exit after shutdown is a clean exit");
}

#[test]
fn exit_without_shutdown_is_an_error_exit() {
    let ws = tempfile::tempdir().expect("workspace");
    let cache = tempfile::tempdir().expect("cache");
    let mut s = Server::start(ws.path(), cache.path());
    s.request("initialize", json!({ "processId": null, "rootUri": url(ws.path()), "capabilities": {} }));
    s.notify("initialized", json!({}));
    s.notify("exit", Value::Null);
    assert_eq!(s.wait(), 1);
}

fn url(p: &Path) -> String {
    let p = p.canonicalize().expect("absolute path");
    lsp_types::Url::from_directory_path(&p).expect("url").as_str().trim_end_matches('/').to_string()
}

fn lsp_path(uri: &str) -> std::path::PathBuf {
    lsp_types::Url::parse(uri).expect("url").to_file_path().expect("file path")
}
