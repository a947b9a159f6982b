//! Diagnostics shared by every phase: one plain data type, rendered by miette
//! for people and serialised to JSON for tools.
//!
//! Phases construct diagnostics with the helpers of their own module and a
//! [`Code`] from [`crate::codes`]; the registry there is the one place that
//! knows what each code means. **Invariant:** every diagnostic has a code, at
//! least one labelled span when it concerns the input, and a help line.

use crate::codes::{Code, Severity};
use crate::source::{SourceMap, Span};
use serde::Serialize;

/// A labelled span: the primary label comes first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A machine-applicable fix: replace `span` with `replacement`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    pub span: Span,
    pub replacement: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: String,
    pub suggestion: Option<Suggestion>,
}

impl Diagnostic {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            labels: Vec::new(),
            help: code.info().help.to_string(),
            suggestion: None,
        }
    }
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
    pub fn label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label { span, message: message.into() });
        self
    }
    pub fn label_opt(self, span: Option<Span>, message: impl Into<String>) -> Self {
        match span {
            Some(s) => self.label(s, message),
            None => self,
        }
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }
    pub fn suggest(mut self, span: Span, replacement: impl Into<String>) -> Self {
        self.suggestion = Some(Suggestion { span, replacement: replacement.into() });
        self
    }
    /// Adds a "did you mean" help and a suggested replacement when a near name exists.
    pub fn did_you_mean<'a>(
        self,
        span: Span,
        wrong: &str,
        candidates: impl IntoIterator<Item = &'a str>,
        fallback_help: impl Into<String>,
    ) -> Self {
        match crate::suggest::closest(wrong, candidates) {
            Some(best) => {
                let best = best.to_string();
                self.help(format!("did you mean `{best}`?")).suggest(span, best)
            }
            None => self.help(fallback_help),
        }
    }
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }
}

/// Errors and warnings of a phase, travelling together.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity() == Severity::Error)
    }
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.severity() == Severity::Error).count()
    }
    pub fn warning_count(&self) -> usize {
        self.items.iter().filter(|d| d.severity() == Severity::Warning).count()
    }
    /// Sorts by file, position and code so reports are stable, and drops exact repeats.
    pub fn sort(&mut self) {
        self.items.sort_by(|a, b| (a.primary_span(), a.code, &a.message).cmp(&(b.primary_span(), b.code, &b.message)));
        self.items.dedup();
    }
}

// ---------------------------------------------------------------- rendering

/// A diagnostic with its source attached, in the shape miette renders.
#[derive(Debug)]
struct Report {
    diag: Diagnostic,
    source: miette::NamedSource<String>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diag.message)
    }
}
impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.diag.code.as_str()))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.diag.help))
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let file = self.diag.primary_span()?.file;
        // miette draws one source per report; labels in other files are
        // named in the message text instead.
        Some(Box::new(self.diag.labels.iter().filter(move |l| l.span.file == file).enumerate().map(|(i, l)| {
            let span = miette::SourceSpan::new((l.span.start as usize).into(), l.span.len());
            if i == 0 {
                miette::LabeledSpan::new_primary_with_span(Some(l.message.clone()), span)
            } else {
                miette::LabeledSpan::new_with_span(Some(l.message.clone()), span)
            }
        })))
    }
}

/// Renders one diagnostic as miette's graphical report.
pub fn render(diag: &Diagnostic, sources: &SourceMap, color: bool, width: usize) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme};
    let (name, text) = match diag.primary_span() {
        Some(s) => {
            let f = sources.get(s.file);
            (f.name.clone(), f.text.clone())
        }
        None => (String::new(), String::new()),
    };
    let report = Report { diag: diag.clone(), source: miette::NamedSource::new(name, text) };
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).without_syntax_highlighting().with_width(width);
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        out = format!("{}: {}\n", diag.code.as_str(), diag.message);
    }
    out
}

/// The JSON shape of a diagnostic for editors and CI annotations.
#[derive(Serialize)]
pub struct JsonDiagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub span: Option<JsonSpan>,
    pub labels: Vec<JsonLabel>,
    pub help: String,
    pub suggestion: Option<JsonSuggestion>,
}

#[derive(Serialize)]
pub struct JsonSpan {
    pub start: u32,
    pub end: u32,
}

#[derive(Serialize)]
pub struct JsonLabel {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub span: JsonSpan,
    pub message: String,
}

#[derive(Serialize)]
pub struct JsonSuggestion {
    pub file: String,
    pub span: JsonSpan,
    pub replacement: String,
}

pub fn to_json(diag: &Diagnostic, sources: &SourceMap) -> JsonDiagnostic {
    let primary = diag.primary_span();
    let pos = primary.map(|s| sources.line_col(s.file, s.start));
    JsonDiagnostic {
        code: diag.code.as_str(),
        severity: diag.severity(),
        message: diag.message.clone(),
        file: primary.map(|s| sources.get(s.file).name.clone()),
        line: pos.map(|p| p.0),
        column: pos.map(|p| p.1),
        span: primary.map(|s| JsonSpan { start: s.start, end: s.end }),
        labels: diag
            .labels
            .iter()
            .map(|l| {
                let (line, column) = sources.line_col(l.span.file, l.span.start);
                JsonLabel {
                    file: sources.get(l.span.file).name.clone(),
                    line,
                    column,
                    span: JsonSpan { start: l.span.start, end: l.span.end },
                    message: l.message.clone(),
                }
            })
            .collect(),
        help: diag.help.clone(),
        suggestion: diag.suggestion.as_ref().map(|s| JsonSuggestion {
            file: sources.get(s.span.file).name.clone(),
            span: JsonSpan { start: s.span.start, end: s.span.end },
            replacement: s.replacement.clone(),
        }),
    }
}

/// A diagnostic as a GitHub Actions workflow command
/// (`::error file=…,line=…,col=…,title=E0203 unknown field::message`), for
/// `--format github`. Every part is escaped as the runner expects: `%`, CR
/// and LF in the message; also `:` and `,` in properties, so that a file
/// name or message cannot end the command or add a property.
pub fn to_github(j: &JsonDiagnostic) -> String {
    fn data(s: &str) -> String {
        s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
    }
    fn property(s: &str) -> String {
        data(s).replace(':', "%3A").replace(',', "%2C")
    }
    let level = match j.severity {
        crate::codes::Severity::Error => "error",
        crate::codes::Severity::Warning => "warning",
    };
    let mut props = Vec::new();
    if let Some(f) = &j.file {
        props.push(format!("file={}", property(f)));
    }
    if let Some(l) = j.line {
        props.push(format!("line={l}"));
    }
    if let Some(c) = j.column {
        props.push(format!("col={c}"));
    }
    props.push(format!("title={}", property(j.code)));
    let mut message = j.message.clone();
    if !j.help.is_empty() {
        message.push_str("\nhelp: ");
        message.push_str(&j.help);
    }
    format!("::{level} {}::{}", props.join(","), data(&message))
}
