//! Ways into deployc for an application that already exists: `deployc init`
//! (a first program from what a repository holds) and `deployc import` (a
//! program from Kubernetes manifests or a Compose file).
//!
//! Both build a [`Draft`] from text the binary has read, and render it as a
//! `.dpl` program in the formatter's layout; nothing here touches the file
//! system. Every string of a draft comes from someone else's files, so the
//! renderer escapes it for a `.dpl` string, turns it into a valid name, or
//! strips it to one line for a comment, and never writes it anywhere else.
//!
//! **Invariant:** a rendered draft is a program that parses; what the
//! language cannot carry is a `// not imported: …` comment, never dropped
//! silently.

pub mod import;
pub mod init;

use std::fmt::Write;

/// A probe as the language writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    Http { path: String, port: Option<u16> },
    Grpc { port: Option<u16> },
    Tcp { port: Option<u16> },
    Exec { command: Vec<String> },
}

/// An environment variable's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvValue {
    Literal(String),
    /// `secret("name")`.
    Secret(String),
}

/// A service as a draft knows it.
#[derive(Clone, Debug, Default)]
pub struct Service {
    pub name: String,
    /// The image as found (imports), or none: the registry's `<service>` name.
    pub image: Option<String>,
    pub language: String,
    /// Why the language was chosen, as a trailing comment.
    pub language_note: Option<String>,
    pub port: Option<u16>,
    pub service_port: Option<u16>,
    pub build_context: Option<String>,
    pub dockerfile: Option<String>,
    pub health: Option<Probe>,
    pub readiness: Option<Probe>,
    /// Kubernetes quantities as written: (request, limit).
    pub cpu: Option<(String, String)>,
    pub memory: Option<(String, String)>,
    pub replicas: Option<u32>,
    pub env: Vec<(String, EnvValue)>,
    /// Comments put above the service.
    pub comments: Vec<String>,
    /// What the language cannot carry yet.
    pub not_imported: Vec<String>,
    /// Services it starts after (`depends_on`), resources it uses (`uses`).
    pub depends_on: Vec<String>,
    pub uses: Vec<String>,
}

/// A backing resource recognised by its image (`postgres:16` → postgres).
#[derive(Clone, Debug)]
pub struct Resource {
    pub name: String,
    pub kind: &'static str,
    pub version: Option<String>,
    pub comments: Vec<String>,
}

/// The resource kind an image runs, with the major version its tag names.
pub fn resource_of(image: &str) -> Option<(&'static str, Option<String>)> {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    let (repo, tag) = last.split_once(':').unwrap_or((last, ""));
    let kind = match repo {
        "postgres" | "postgresql" => "postgres",
        "redis" => "redis",
        "mongo" | "mongodb" => "mongodb",
        "kafka" | "cp-kafka" => "kafka",
        _ => return None,
    };
    let major: String = tag.chars().take_while(char::is_ascii_digit).collect();
    let version = (!major.is_empty() && matches!(kind, "postgres" | "redis")).then_some(major);
    Some((kind, version))
}

/// A program to write.
#[derive(Clone, Debug, Default)]
pub struct Draft {
    pub project: String,
    pub repository: String,
    /// Lines at the head of the file.
    pub header: Vec<String>,
    pub services: Vec<Service>,
    pub resources: Vec<Resource>,
    /// Program-wide things not carried.
    pub not_imported: Vec<String>,
}

/// `text` as the body of a `.dpl` string literal.
pub fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A single-line `.dpl` string: control characters dropped, not escaped
/// (hosts, paths and images must not hold a newline, E0305).
pub fn quote_line(text: &str) -> String {
    quote(&text.chars().filter(|c| !c.is_control()).collect::<String>())
}

/// One line of comment text: control characters become spaces (a newline
/// must not end the comment and start code), `*/` cannot close anything.
pub fn comment(text: &str) -> String {
    let line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut short: String = line.chars().take(300).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    short
}

/// A valid declaration name (RFC 1035 label) from any text: lowercase
/// letters, digits and `-`, starting with a letter, at most 63 characters.
pub fn name(text: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out = out.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-').to_string();
    out.truncate(63);
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        fallback.to_string()
    } else {
        out
    }
}

/// Makes service names unique (`api`, `api-2`, ...), keeping order.
pub fn dedupe(services: &mut [Service]) {
    let mut seen = std::collections::BTreeSet::new();
    for s in services.iter_mut() {
        let base = s.name.clone();
        let mut n = 2;
        while !seen.insert(s.name.clone()) {
            let suffix = format!("-{n}");
            let mut b = base.clone();
            b.truncate(63 - suffix.len());
            s.name = format!("{}{suffix}", b.trim_end_matches('-'));
            n += 1;
        }
    }
}

fn probe(p: &Probe) -> String {
    let port = |p: &Option<u16>| p.map(|p| format!(" port = {p}")).unwrap_or_default();
    match p {
        Probe::Http { path, port: pt } => format!("http {{ path = {}{} }}", quote_line(path), port(pt)),
        Probe::Grpc { port: pt } if pt.is_some() => format!("grpc {{{} }}", port(pt)),
        Probe::Grpc { .. } => "grpc".into(),
        Probe::Tcp { port: pt } if pt.is_some() => format!("tcp {{{} }}", port(pt)),
        Probe::Tcp { .. } => "tcp".into(),
        Probe::Exec { command } => {
            format!("exec {{ command = [{}] }}", command.iter().map(|c| quote_line(c)).collect::<Vec<_>>().join(", "))
        }
    }
}

/// Links services to the resources they evidently use, so that none is
/// reported unused: a resource `X-db` (or `-cache`, `-redis`, `-mongo`,
/// `-postgres`) belongs to the service `X`; an environment value naming the
/// resource as a host (`//orders-db:`, `@orders-db`, `orders-db:27017`) uses it.
pub fn link_resources(d: &mut Draft) {
    let names: Vec<String> = d.resources.iter().map(|r| r.name.clone()).collect();
    for s in &mut d.services {
        for r in &names {
            let owner = ["-db", "-cache", "-redis", "-mongo", "-postgres"]
                .iter()
                .any(|suffix| r.strip_suffix(suffix) == Some(s.name.as_str()));
            let named = s.env.iter().any(|(_, v)| match v {
                EnvValue::Literal(t) => {
                    [format!("//{r}:"), format!("//{r}/"), format!("@{r}:"), format!("@{r}/"), format!("{r}:")]
                        .iter()
                        .any(|p| t.contains(p.as_str()))
                        || t == r
                }
                EnvValue::Secret(_) => false,
            });
            if (owner || named) && !s.uses.contains(r) {
                s.uses.push(r.clone());
            }
        }
    }
}

/// The draft as a `.dpl` program, in the formatter's layout.
pub fn render(d: &Draft) -> String {
    let mut s = String::new();
    for h in &d.header {
        let _ = writeln!(s, "// {}", comment(h));
    }
    for n in &d.not_imported {
        let _ = writeln!(s, "// not imported: {}", comment(n));
    }
    if !d.header.is_empty() || !d.not_imported.is_empty() {
        s.push('\n');
    }
    let _ = writeln!(s, "project {} {{", name(&d.project, "app"));
    let _ = writeln!(s, "  repository = {}", quote_line(&d.repository));
    let _ =
        writeln!(s, "  // Where CI pushes images: ghcr, dockerhub or ecr {{ region = \"...\" account = \"...\" }}.");
    let _ = writeln!(s, "  registry = ghcr {{ owner = {} }}", quote(&owner(&d.repository)));
    let _ = writeln!(s, "}}\n");
    for r in &d.resources {
        for c in &r.comments {
            let _ = writeln!(s, "// {}", comment(c));
        }
        match &r.version {
            Some(v) => {
                let _ = writeln!(s, "resource {} = {} {{ version = {} }}\n", r.name, r.kind, quote(v));
            }
            None => {
                let _ = writeln!(s, "resource {} = {}\n", r.name, r.kind);
            }
        }
    }
    for svc in &d.services {
        for c in &svc.comments {
            let _ = writeln!(s, "// {}", comment(c));
        }
        for n in &svc.not_imported {
            let _ = writeln!(s, "// not imported: {}", comment(n));
        }
        let _ = writeln!(s, "service {} {{", svc.name);
        if let Some(i) = &svc.image {
            let _ = writeln!(s, "  image = {}", quote_line(i));
        }
        if svc.build_context.is_some() || svc.dockerfile.is_some() {
            let mut b = String::new();
            if let Some(c) = &svc.build_context {
                let _ = write!(b, " context = {}", quote_line(c));
            }
            if let Some(f) = &svc.dockerfile {
                let _ = write!(b, " dockerfile = {}", quote_line(f));
            }
            let _ = writeln!(s, "  build {{{b} }}");
        }
        // No language: a prebuilt image, which nothing builds.
        match &svc.language_note {
            _ if svc.language.is_empty() => {}
            Some(n) => {
                let _ = writeln!(s, "  language = {} // {}", svc.language, comment(n));
            }
            None => {
                let _ = writeln!(s, "  language = {}", svc.language);
            }
        }
        match svc.port {
            Some(p) => {
                let _ = writeln!(s, "  port = {p}");
            }
            None => {
                let _ = writeln!(s, "  port = 8080 // no port found: set the one the container listens on");
            }
        }
        if let Some(p) = svc.service_port.filter(|p| Some(*p) != svc.port) {
            let _ = writeln!(s, "  service_port = {p}");
        }
        if let Some(h) = &svc.health {
            let _ = writeln!(s, "  health = {}", probe(h));
        }
        if let Some(r) = svc.readiness.as_ref().filter(|r| Some(*r) != svc.health.as_ref()) {
            let _ = writeln!(s, "  readiness = {}", probe(r));
        }
        if let Some((req, lim)) = &svc.cpu {
            let _ = writeln!(s, "  cpu = {req}..{lim}");
        }
        if let Some((req, lim)) = &svc.memory {
            let _ = writeln!(s, "  memory = {req}..{lim}");
        }
        if let Some(r) = svc.replicas {
            let _ = writeln!(s, "  replicas = {r}");
        }
        let list = |l: &[String]| l.join(", ");
        if !svc.depends_on.is_empty() {
            let _ = writeln!(s, "  depends_on = [{}]", list(&svc.depends_on));
        }
        if !svc.uses.is_empty() {
            let _ = writeln!(s, "  uses = [{}]", list(&svc.uses));
        }
        if !svc.env.is_empty() {
            let _ = writeln!(s, "  env {{");
            for (k, v) in &svc.env {
                let v = match v {
                    EnvValue::Literal(t) => quote(t),
                    EnvValue::Secret(n) => format!("secret({})", quote(n)),
                };
                let _ = writeln!(s, "    {k} = {v}");
            }
            let _ = writeln!(s, "  }}");
        }
        let _ = writeln!(s, "}}\n");
    }
    s.push_str("// Each environment is a namespace; add qa, staging or prod with\n");
    s.push_str("// `promote = manual(from = dev)` and a strategy (canary, blue_green).\n");
    s.push_str("environment dev {\n  promote = on_push(\"main\")\n}\n");
    crate::fmt::format("envs.dpl", &s).unwrap_or(s)
}

/// The owner part of `github.com/OWNER/repo`, as a registry owner.
fn owner(repository: &str) -> String {
    let parts: Vec<&str> = repository.split('/').collect();
    name(parts.get(1).copied().unwrap_or("acme"), "acme")
}

/// A Kubernetes quantity of cpu as the language writes it (`250m`, `1`,
/// `0.5` → `500m`); none for what it cannot carry.
pub fn cpu(q: &str) -> Option<String> {
    let q = q.trim();
    if let Some(m) = q.strip_suffix('m') {
        return m.parse::<u64>().ok().map(|m| if m % 1000 == 0 { format!("{}", m / 1000) } else { format!("{m}m") });
    }
    let v: f64 = q.parse().ok()?;
    let milli = (v * 1000.0).round();
    if milli <= 0.0 {
        return None;
    }
    let milli = milli as u64;
    Some(if milli % 1000 == 0 { format!("{}", milli / 1000) } else { format!("{milli}m") })
}

/// A Kubernetes memory quantity as the language writes it (`256Mi`, `1Gi`,
/// `128M`); none for what it cannot carry.
pub fn memory(q: &str) -> Option<String> {
    let q = q.trim();
    for unit in ["Ki", "Mi", "Gi", "Ti", "K", "M", "G"] {
        if let Some(n) = q.strip_suffix(unit) {
            return n.parse::<u64>().ok().filter(|n| *n > 0).map(|n| format!("{n}{unit}"));
        }
    }
    // Plain bytes: whole mebibytes only.
    let b: u64 = q.parse().ok()?;
    (b > 0 && b % (1024 * 1024) == 0).then(|| format!("{}Mi", b / (1024 * 1024)))
}
