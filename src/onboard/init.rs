//! `deployc init`: a first program from what a repository holds. Each folder
//! with a build manifest (`package.json`, `pyproject.toml`,
//! `requirements.txt`, `go.mod`, `pom.xml`, `build.gradle`) or a Dockerfile
//! is a service; the manifest names its toolchain, the Dockerfile's `EXPOSE`
//! its port. A `docker-compose.yml` at the root adds what it knows (ports,
//! environment, prebuilt images) through [`super::import::compose`].

use super::{dedupe, name, Draft, Service};
use std::collections::BTreeMap;

/// The files `init` reads, by file name.
pub const WANTED: &[&str] = &[
    "Dockerfile",
    "package.json",
    "tsconfig.json",
    "pyproject.toml",
    "requirements.txt",
    "go.mod",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "docker-compose.yml",
    "docker-compose.yaml",
    "compose.yml",
    "compose.yaml",
];

/// Folders never searched: dependencies, build output, VCS data.
pub const SKIP_DIRS: &[&str] =
    &[".git", "node_modules", "target", "vendor", "dist", "build", ".venv", "venv", "__pycache__", "out", ".terraform"];

/// One file found: its path relative to the repository root (`/`
/// separators) and its text.
pub struct Found {
    pub path: String,
    pub text: String,
}

/// The toolchain a folder's files name, and why.
fn language(files: &BTreeMap<&str, &str>) -> Option<(&'static str, String)> {
    if let Some(pkg) = files.get("package.json") {
        let ts = files.contains_key("tsconfig.json") || pkg.contains("\"typescript\"");
        return Some(if ts {
            ("typescript", "package.json with TypeScript".into())
        } else {
            ("node", "package.json".into())
        });
    }
    if files.contains_key("pyproject.toml") {
        return Some(("python", "pyproject.toml".into()));
    }
    if files.contains_key("requirements.txt") {
        return Some(("python", "requirements.txt".into()));
    }
    if files.contains_key("go.mod") {
        return Some(("go", "go.mod".into()));
    }
    if files.contains_key("pom.xml") {
        return Some(("java", "pom.xml (Maven)".into()));
    }
    if files.contains_key("build.gradle") || files.contains_key("build.gradle.kts") {
        return Some(("java-gradle", "build.gradle".into()));
    }
    let docker = files.get("Dockerfile")?;
    Some(from_base_image(docker).map_or(("node", "no build manifest; node is a guess".into()), |(l, why)| (l, why)))
}

/// The toolchain a Dockerfile's base image suggests.
fn from_base_image(dockerfile: &str) -> Option<(&'static str, String)> {
    let from = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| l.to_ascii_uppercase().starts_with("FROM "))
        .map(|l| l[5..].trim().to_ascii_lowercase())
        .next()?;
    let table: &[(&str, &str)] = &[
        ("node", "node"),
        ("python", "python"),
        ("golang", "go"),
        ("openjdk", "java"),
        ("eclipse-temurin", "java"),
        ("maven", "java"),
        ("gradle", "java-gradle"),
    ];
    table
        .iter()
        .find(|(k, _)| from.contains(k))
        .map(|(_, l)| (*l, format!("Dockerfile FROM {}", super::comment(&from))))
}

/// The first port a Dockerfile `EXPOSE`s.
fn exposed(dockerfile: &str) -> Option<u16> {
    dockerfile.lines().map(str::trim).filter(|l| l.to_ascii_uppercase().starts_with("EXPOSE ")).find_map(|l| {
        l[7..].split_whitespace().find_map(|p| p.split('/').next().and_then(|p| p.parse().ok()).filter(|p| *p > 0))
    })
}

/// The draft for a repository named `repo_name` (its folder), whose remote
/// is `repository` when known.
pub fn draft(repo_name: &str, repository: Option<&str>, found: &[Found]) -> Draft {
    let mut dirs: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
    let mut compose = None;
    for f in found {
        let (dir, file) = f.path.rsplit_once('/').unwrap_or(("", f.path.as_str()));
        if dir.is_empty()
            && matches!(file, "docker-compose.yml" | "docker-compose.yaml" | "compose.yml" | "compose.yaml")
        {
            compose.get_or_insert((f.path.as_str(), f.text.as_str()));
            continue;
        }
        dirs.entry(dir).or_default().insert(file, f.text.as_str());
    }
    let project = name(repo_name, "app");
    let mut d = Draft {
        project: project.clone(),
        repository: repository.map(str::to_string).unwrap_or_else(|| format!("github.com/acme/{project}")),
        header: vec![
            format!(
                "Written by `deployc init` from what {} holds; read it, then `deployc check envs.dpl`.",
                super::comment(repo_name)
            ),
            "The language reference lists every field: `deployc explain CODE` explains a diagnostic.".into(),
        ],
        ..Draft::default()
    };
    for (dir, files) in &dirs {
        let Some((language, why)) = language(files) else { continue };
        let leaf = dir.rsplit('/').next().filter(|l| !l.is_empty()).unwrap_or(repo_name);
        let mut s = Service {
            name: name(leaf, "app"),
            language: language.to_string(),
            language_note: Some(format!("from {why}")),
            ..Service::default()
        };
        if let Some(df) = files.get("Dockerfile") {
            s.port = exposed(df);
            if !dir.is_empty() {
                s.build_context = Some(dir.to_string());
            }
        } else {
            s.comments.push(format!(
                "{} has no Dockerfile: add one (CI builds the image from it)",
                if dir.is_empty() { "." } else { dir }
            ));
            if !dir.is_empty() {
                s.build_context = Some(dir.to_string());
            }
        }
        s.comments.push("health = http { path = \"/healthz\" } gives it a readiness and liveness probe".into());
        d.services.push(s);
    }
    if let Some((path, text)) = compose {
        merge_compose(&mut d, path, text);
    }
    dedupe(&mut d.services);
    d
}

/// Adds what a Compose file knows: ports and environment of the services it
/// builds from a folder found above, and the services it runs from images.
fn merge_compose(d: &mut Draft, path: &str, text: &str) {
    let Ok(from_compose) = super::import::compose(text, &d.project) else {
        d.not_imported.push(format!("{path}: not a Compose file deployc can read"));
        return;
    };
    for c in from_compose.services {
        let by_context =
            c.build_context.as_deref().map(|b| b.trim_start_matches("./").trim_end_matches('/').to_string());
        let existing = d.services.iter_mut().find(|s| {
            by_context.is_some() && s.build_context.as_deref().map(|b| b.trim_end_matches('/')) == by_context.as_deref()
                || s.name == c.name
        });
        match existing {
            Some(s) => {
                s.port = s.port.or(c.port);
                s.service_port = s.service_port.or(c.service_port);
                s.health = s.health.clone().or(c.health);
                if s.env.is_empty() {
                    s.env = c.env;
                }
                s.depends_on.extend(c.depends_on);
                s.uses.extend(c.uses);
                s.not_imported.extend(c.not_imported);
            }
            None if c.build_context.is_none() => d.services.push(c),
            None => {}
        }
    }
    d.resources.extend(from_compose.resources);
    d.not_imported.extend(from_compose.not_imported);
}
