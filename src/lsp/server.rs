//! The server state and the dispatch of LSP messages to the handlers: pure
//! functions from a request (method and JSON parameters) to its JSON result,
//! and from a notification to the notifications it causes
//! (`textDocument/publishDiagnostics`). Unit tests drive this directly;
//! [`super::run`] connects it to a transport.

use super::workspace::{Document, Host, Workspace};
use super::{complete, diagnostics, format, hover, navigate, refs, text};
use lsp_server::{ErrorCode, Notification, ResponseError};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest, References, Rename,
    Request as _,
};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability, CompletionOptions, InitializeParams, OneOf,
    Position, PublishDiagnosticsParams, ServerCapabilities, TextDocumentSyncCapability, TextDocumentSyncKind, Url,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

pub struct Server<'h> {
    host: &'h dyn Host,
    pub ws: Workspace,
    /// URIs that were last sent a non-empty or empty diagnostics list.
    published: BTreeSet<Url>,
}

/// What the server offers; sent in the `initialize` response.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::INCREMENTAL)),
        hover_provider: Some(lsp_types::HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into(), "{".into()]),
            ..Default::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..Default::default()
        })),
        ..Default::default()
    }
}

/// The workspace folder of an `initialize` request, if it names a local one.
pub fn workspace_root(params: &InitializeParams) -> Option<PathBuf> {
    let folder = params.workspace_folders.as_ref().and_then(|f| f.first()).map(|f| f.uri.clone());
    #[allow(deprecated)] // Older clients send only `rootUri`.
    let uri = folder.or_else(|| params.root_uri.clone())?;
    uri.to_file_path().ok()
}

fn parse<P: DeserializeOwned>(params: Value) -> Result<P, ResponseError> {
    serde_json::from_value(params).map_err(|e| ResponseError {
        code: ErrorCode::InvalidParams as i32,
        message: format!("invalid parameters: {e}"),
        data: None,
    })
}

fn to_json<R: serde::Serialize>(r: R) -> Result<Value, ResponseError> {
    serde_json::to_value(r).map_err(|e| ResponseError {
        code: ErrorCode::InternalError as i32,
        message: e.to_string(),
        data: None,
    })
}

impl<'h> Server<'h> {
    /// A server for the workspace folder `root`, with the standard modules at `stdlib_base`.
    pub fn new(host: &'h dyn Host, root: Option<PathBuf>, stdlib_base: Url) -> Self {
        Server { host, ws: Workspace::new(root, stdlib_base), published: BTreeSet::new() }
    }

    /// The text of a document: the open one, else as last loaded by a program.
    fn text(&self, uri: &Url) -> Option<String> {
        if let Some(d) = self.ws.docs.get(uri) {
            return Some(d.text.clone());
        }
        let (a, id) = self.ws.analysis_for(uri)?;
        Some(a.text(id).to_string())
    }

    /// A document position as text and byte offset.
    fn locate(&self, uri: &Url, pos: Position) -> Option<(String, usize)> {
        let text = self.text(uri)?;
        let offset = text::LineIndex::new(&text).offset(&text, pos);
        Some((text, offset))
    }

    /// Handles a request; `Err` is the protocol error to answer with.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, ResponseError> {
        match method {
            HoverRequest::METHOD => {
                let p: lsp_types::HoverParams = parse(params)?;
                let uri = p.text_document_position_params.text_document.uri;
                let found = self
                    .locate(&uri, p.text_document_position_params.position)
                    .and_then(|(text, off)| hover::hover(&self.ws, &uri, &text, off));
                to_json(found)
            }
            GotoDefinition::METHOD => {
                let p: lsp_types::GotoDefinitionParams = parse(params)?;
                let uri = p.text_document_position_params.text_document.uri;
                let found = self
                    .locate(&uri, p.text_document_position_params.position)
                    .and_then(|(text, off)| navigate::definition(&self.ws, &uri, &text, off))
                    .map(lsp_types::GotoDefinitionResponse::Scalar);
                to_json(found)
            }
            References::METHOD => {
                let p: lsp_types::ReferenceParams = parse(params)?;
                let uri = p.text_document_position.text_document.uri;
                let found = self
                    .locate(&uri, p.text_document_position.position)
                    .map(|(text, off)| refs::references(&self.ws, &uri, &text, off, p.context.include_declaration))
                    .unwrap_or_default();
                to_json(found)
            }
            Rename::METHOD => {
                let p: lsp_types::RenameParams = parse(params)?;
                let uri = p.text_document_position.text_document.uri;
                let Some((text, off)) = self.locate(&uri, p.text_document_position.position) else {
                    return to_json(Option::<lsp_types::WorkspaceEdit>::None);
                };
                match refs::rename(&self.ws, &uri, &text, off, &p.new_name) {
                    Ok(edit) => to_json(edit),
                    Err(message) => Err(ResponseError { code: ErrorCode::InvalidParams as i32, message, data: None }),
                }
            }
            Completion::METHOD => {
                let p: lsp_types::CompletionParams = parse(params)?;
                let uri = p.text_document_position.text_document.uri;
                let items = self
                    .locate(&uri, p.text_document_position.position)
                    .map(|(text, off)| complete::complete(&self.ws, &uri, &text, off))
                    .unwrap_or_default();
                to_json(lsp_types::CompletionResponse::Array(items))
            }
            DocumentSymbolRequest::METHOD => {
                let p: lsp_types::DocumentSymbolParams = parse(params)?;
                let symbols = self.text(&p.text_document.uri).map(|t| navigate::symbols(&t)).unwrap_or_default();
                to_json(lsp_types::DocumentSymbolResponse::Nested(symbols))
            }
            Formatting::METHOD => {
                let p: lsp_types::DocumentFormattingParams = parse(params)?;
                let edits = self.text(&p.text_document.uri).map(|t| format::edits(&t)).unwrap_or_default();
                to_json(edits)
            }
            CodeActionRequest::METHOD => {
                let p: lsp_types::CodeActionParams = parse(params)?;
                to_json(diagnostics::code_actions(&self.ws, &p.text_document.uri, p.range))
            }
            _ => Err(ResponseError {
                code: ErrorCode::MethodNotFound as i32,
                message: format!("deployc lsp does not handle `{method}`"),
                data: None,
            }),
        }
    }

    /// Handles a notification; returns the notifications to send back.
    pub fn notify(&mut self, method: &str, params: Value) -> Vec<Notification> {
        match method {
            DidOpenTextDocument::METHOD => {
                let Ok(p) = parse::<lsp_types::DidOpenTextDocumentParams>(params) else { return Vec::new() };
                let d = p.text_document;
                self.ws.docs.insert(d.uri, Document { text: d.text, version: d.version });
            }
            DidChangeTextDocument::METHOD => {
                let Ok(p) = parse::<lsp_types::DidChangeTextDocumentParams>(params) else { return Vec::new() };
                let Some(doc) = self.ws.docs.get_mut(&p.text_document.uri) else { return Vec::new() };
                text::apply_changes(&mut doc.text, p.content_changes);
                doc.version = p.text_document.version;
            }
            DidCloseTextDocument::METHOD => {
                let Ok(p) = parse::<lsp_types::DidCloseTextDocumentParams>(params) else { return Vec::new() };
                self.ws.docs.remove(&p.text_document.uri);
            }
            // Imported files may have changed on disk.
            DidSaveTextDocument::METHOD | DidChangeWatchedFiles::METHOD => {}
            _ => return Vec::new(),
        }
        self.ws.refresh(self.host);
        self.publish()
    }

    /// `publishDiagnostics` for every file whose diagnostics may have changed.
    fn publish(&mut self) -> Vec<Notification> {
        let current = diagnostics::by_file(&self.ws);
        let mut out = Vec::new();
        for uri in self.published.iter().filter(|u| !current.contains_key(*u)) {
            out.push(publish(uri.clone(), Vec::new(), None));
        }
        for (uri, list) in &current {
            let version = self.ws.docs.get(uri).map(|d| d.version);
            out.push(publish(uri.clone(), list.clone(), version));
        }
        self.published = current.into_keys().collect();
        out
    }
}

fn publish(uri: Url, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) -> Notification {
    Notification::new(PublishDiagnostics::METHOD.to_string(), PublishDiagnosticsParams { uri, diagnostics, version })
}
