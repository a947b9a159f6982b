//! The language server (`deployc lsp`): diagnostics, hover, go to
//! definition, completion, document symbols, formatting and quick fixes for
//! `.dpl` files.
//!
//! The protocol plumbing is `lsp-server` (rust-analyzer's synchronous
//! message loop over crossbeam channels) with the `lsp-types` structures.
//! Everything here is pure: [`server::Server`] turns requests into
//! responses over an in-memory [`workspace::Workspace`] of open documents;
//! [`run`] pumps messages between a [`Connection`] and the server. The
//! binary creates the stdio connection, reads imported files from disk
//! (through [`Host`]) and puts read-only copies of the standard library where
//! editors can open them (see `src/lsp_stdio.rs`).
//!
//! Positions are UTF-16 columns ([`text`]); what is under the cursor comes
//! from a tolerant walk over the tokens ([`cursor`]), so completion works in
//! half-written code the parser rejects.

pub mod complete;
pub mod cursor;
pub mod diagnostics;
pub mod format;
pub mod hover;
pub mod navigate;
pub mod refs;
pub mod server;
pub mod text;
pub mod workspace;

pub use lsp_server::Connection;
pub use server::Server;
pub use workspace::Host;

use lsp_server::{Message, Response};
use lsp_types::{InitializeParams, Url};

/// Serves one client on `connection` until it exits. Returns whether the
/// client shut the server down properly (`shutdown`, then `exit`), which
/// decides the process's exit code.
pub fn run(connection: &Connection, host: &dyn Host, stdlib_base: Url) -> Result<bool, Box<dyn std::error::Error>> {
    let (id, params) = connection.initialize_start()?;
    let params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let mut server = Server::new(host, server::workspace_root(&params), stdlib_base);
    let result = serde_json::json!({
        "capabilities": server::capabilities(),
        "serverInfo": { "name": "deployc", "version": env!("CARGO_PKG_VERSION") },
    });
    connection.initialize_finish(id, result)?;
    for msg in &connection.receiver {
        match msg {
            Message::Request(req) => {
                if connection.handle_shutdown(&req)? {
                    return Ok(true);
                }
                let response = Response { id: req.id, response_result: server.request(&req.method, req.params) };
                send(connection, Message::Response(response))?;
            }
            Message::Notification(n) => {
                if n.method == "exit" {
                    return Ok(false);
                }
                for out in server.notify(&n.method, n.params) {
                    send(connection, Message::Notification(out))?;
                }
            }
            // The server sends no requests, so expects no responses.
            Message::Response(_) => {}
        }
    }
    Ok(false)
}

fn send(connection: &Connection, msg: Message) -> Result<(), Box<dyn std::error::Error>> {
    connection.sender.send(msg).map_err(|e| format!("client went away: {e}").into())
}

#[cfg(test)]
mod tests;
