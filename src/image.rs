//! Container image references: what a service's `image` says.
//!
//! A service's image is either the name of a repository CI builds and pushes
//! to the project's registry (`"healthcp/api"`: no registry host, no tag, no
//! digest), or a full reference to a prebuilt image (`"argoproj/rollouts-demo:blue"`,
//! `"us-central1-docker.pkg.dev/p/r/adservice:v0.10.6"`, `"redis@sha256:…"`),
//! deployed exactly as written. [`parse`] follows the grammar of the
//! distribution project's `reference` package (the one Docker, containerd and
//! the kubelet use).
//!
//! *Why hand-written rather than a crate:* the checker needs to say *which*
//! part is wrong (two tags, a bad digest, an uppercase repository, an empty
//! part) with a help line each; the OCI crates report one opaque error and
//! bring an HTTP client along. The grammar is thirty lines.
//!
//! Pure and shared by the checker and the model, like `pins.rs`.

/// A parsed image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// `ghcr.io`, `localhost:5000`; `None` for Docker Hub's short form.
    pub registry: Option<String>,
    /// The path below the registry, e.g. `argoproj/rollouts-demo`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// Whether it names one image (a tag or a digest): a prebuilt image.
    pub fn is_pinned(&self) -> bool {
        self.tag.is_some() || self.digest.is_some()
    }
}

/// What is wrong with a reference; each is one diagnostic with its own help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageError {
    /// An empty reference, or an empty part (`a//b`, `name:`, `name@`, a trailing `/`).
    Empty(&'static str),
    /// More than one `:tag` after the repository (`demo:blue:v2`).
    TwoTags,
    /// A digest that is not `sha256:` with 64 lowercase hex digits (or another registered algorithm).
    BadDigest(String),
    /// Upper-case letters in the repository path.
    Uppercase(String),
    /// A tag with characters outside `[A-Za-z0-9_.-]`, starting with `.` or `-`, or longer than 128.
    BadTag(String),
    /// A path component with characters a repository name cannot hold.
    BadComponent(String),
    /// A registry host is written but there is neither tag nor digest: a prebuilt image must name one image.
    Unpinned,
}

impl ImageError {
    /// The message, lowercase, naming the culprit.
    pub fn message(&self, text: &str) -> String {
        match self {
            ImageError::Empty(what) => format!("image reference `{text}` has an empty {what}"),
            ImageError::TwoTags => format!("image reference `{text}` has two tags"),
            ImageError::BadDigest(d) => format!("image reference `{text}` has an invalid digest `{d}`"),
            ImageError::Uppercase(c) => format!("image repository `{c}` has upper-case letters"),
            ImageError::BadTag(t) => format!("image reference `{text}` has an invalid tag `{t}`"),
            ImageError::BadComponent(c) => {
                format!("image repository part `{c}` has characters a repository cannot hold")
            }
            ImageError::Unpinned => format!("image `{text}` names another registry but no tag or digest"),
        }
    }
    /// The help line, a full sentence.
    pub fn help(&self) -> &'static str {
        match self {
            ImageError::Empty(_) => "Write the reference in full, such as \"ghcr.io/acme/api:1.4.2\", with no empty part between `/`, after `:` or after `@`.",
            ImageError::TwoTags => "Keep one tag: a prebuilt image is deployed as written, and a built one gets its tag from CD, so a built image is written without a tag.",
            ImageError::BadDigest(_) => "Write the digest as `@sha256:` followed by 64 lowercase hexadecimal digits, as `docker buildx imagetools inspect` prints it.",
            ImageError::Uppercase(_) => "Write the repository in lower case: registries refuse upper-case repository names (tags may hold upper case).",
            ImageError::BadTag(_) => "A tag holds letters, digits, `_`, `.` and `-`, does not start with `.` or `-`, and has at most 128 characters.",
            ImageError::BadComponent(_) => "A repository part holds lowercase letters and digits, separated by `.`, `_`, `__` or dashes.",
            ImageError::Unpinned => "Add the tag or digest to deploy (\":v1.2.3\" or \"@sha256:...\"), or drop the registry host to build the image here and push it to the project's registry.",
        }
    }
}

/// Parses an image reference.
pub fn parse(text: &str) -> Result<ImageRef, ImageError> {
    if text.is_empty() {
        return Err(ImageError::Empty("name"));
    }
    // The digest is everything after the first `@`.
    let (rest, digest) = match text.split_once('@') {
        Some((r, d)) => {
            if d.is_empty() {
                return Err(ImageError::Empty("digest"));
            }
            check_digest(d)?;
            (r, Some(d.to_string()))
        }
        None => (text, None),
    };
    if rest.is_empty() {
        return Err(ImageError::Empty("repository"));
    }
    // The registry is the first component when it looks like a host: it has
    // a `.` or a `:` (a port), or is `localhost`.
    let (registry, path) = match rest.split_once('/') {
        Some((first, p)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            (Some(first.to_string()), p)
        }
        _ => (None, rest),
    };
    if let Some(r) = &registry {
        check_host(r)?;
    }
    // A tag is after the last `:` of the path's last component.
    let last = path.rsplit('/').next().unwrap_or(path);
    let colons = last.matches(':').count();
    if colons > 1 {
        return Err(ImageError::TwoTags);
    }
    let (repository, tag) = match path.rsplit_once(':') {
        Some((r, t)) if colons == 1 => {
            if t.is_empty() {
                return Err(ImageError::Empty("tag"));
            }
            check_tag(t)?;
            (r, Some(t.to_string()))
        }
        _ => (path, None),
    };
    if repository.contains(':') {
        // A `:` in an earlier component: `a:b/c:d` where `a:b` is no host.
        return Err(ImageError::TwoTags);
    }
    if repository.is_empty() {
        return Err(ImageError::Empty("repository"));
    }
    for c in repository.split('/') {
        check_component(c)?;
    }
    let r = ImageRef { registry, repository: repository.to_string(), tag, digest };
    if r.registry.is_some() && !r.is_pinned() {
        return Err(ImageError::Unpinned);
    }
    Ok(r)
}

fn check_host(h: &str) -> Result<(), ImageError> {
    let (host, port) = match h.rsplit_once(':') {
        Some((a, p)) => (a, Some(p)),
        None => (h, None),
    };
    if host.is_empty() {
        return Err(ImageError::Empty("registry host"));
    }
    if let Some(p) = port {
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
            return Err(ImageError::BadComponent(h.to_string()));
        }
    }
    if !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
        return Err(ImageError::BadComponent(h.to_string()));
    }
    Ok(())
}

fn check_tag(t: &str) -> Result<(), ImageError> {
    let ok = t.len() <= 128
        && t.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ImageError::BadTag(t.to_string()))
    }
}

fn check_digest(d: &str) -> Result<(), ImageError> {
    let bad = || ImageError::BadDigest(d.to_string());
    let (alg, hex) = d.split_once(':').ok_or_else(bad)?;
    let len = match alg {
        "sha256" => 64,
        "sha512" => 128,
        _ => return Err(bad()),
    };
    if hex.len() == len && hex.chars().all(|c| c.is_ascii_digit() || matches!(c, 'a'..='f')) {
        Ok(())
    } else {
        Err(bad())
    }
}

/// `[a-z0-9]+` joined by `.`, `_`, `__` or any number of `-`.
fn check_component(c: &str) -> Result<(), ImageError> {
    if c.is_empty() {
        return Err(ImageError::Empty("repository part"));
    }
    if c.chars().any(|ch| ch.is_ascii_uppercase()) {
        return Err(ImageError::Uppercase(c.to_string()));
    }
    let bad = || ImageError::BadComponent(c.to_string());
    if !c.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || matches!(ch, '.' | '_' | '-')) {
        return Err(bad());
    }
    // Separators sit between alphanumeric runs.
    let alnum = |ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit();
    let mut chars = c.chars().peekable();
    let mut prev_alnum = false;
    while let Some(ch) = chars.next() {
        if alnum(ch) {
            prev_alnum = true;
            continue;
        }
        if !prev_alnum {
            return Err(bad());
        }
        // Take the whole separator run.
        let mut sep = String::from(ch);
        while let Some(&n) = chars.peek() {
            if alnum(n) {
                break;
            }
            sep.push(n);
            chars.next();
        }
        let ok = sep == "." || sep == "_" || sep == "__" || sep.chars().all(|x| x == '-');
        if !ok || chars.peek().is_none() {
            return Err(bad());
        }
        prev_alnum = false;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_published_references() {
        let r = parse("argoproj/rollouts-demo:blue").expect("valid");
        assert_eq!(
            (r.registry, r.repository.as_str(), r.tag.as_deref()),
            (None, "argoproj/rollouts-demo", Some("blue"))
        );
        let r = parse("us-central1-docker.pkg.dev/google-samples/microservices-demo/adservice:v0.10.6").expect("valid");
        assert_eq!(r.registry.as_deref(), Some("us-central1-docker.pkg.dev"));
        assert_eq!(r.repository, "google-samples/microservices-demo/adservice");
        let d = format!("redis@sha256:{}", "a".repeat(64));
        assert_eq!(parse(&d).expect("valid").digest.as_deref().map(|d| d.len()), Some(71));
        assert!(parse("localhost:5000/team/app:1.0").expect("valid").is_pinned());
        let r = parse("healthcp/api").expect("valid");
        assert!(!r.is_pinned());
        assert!(parse("my__app/x-y--z:v1.2_RC").is_ok());
    }

    #[test]
    fn names_what_is_wrong() {
        assert_eq!(parse("ghcr.io/acme/argoproj/rollouts-demo:blue:main-initial"), Err(ImageError::TwoTags));
        assert_eq!(parse("demo:blue:v2"), Err(ImageError::TwoTags));
        assert!(matches!(parse("redis@sha256:abc"), Err(ImageError::BadDigest(_))));
        assert!(matches!(parse("redis@md5:abc"), Err(ImageError::BadDigest(_))));
        assert!(matches!(parse(&format!("redis@sha256:{}", "A".repeat(64))), Err(ImageError::BadDigest(_))));
        assert!(matches!(parse("Acme/api:1"), Err(ImageError::Uppercase(_))));
        assert_eq!(parse(""), Err(ImageError::Empty("name")));
        assert_eq!(parse("a//b:1"), Err(ImageError::Empty("repository part")));
        assert_eq!(parse("api:"), Err(ImageError::Empty("tag")));
        assert_eq!(parse("api@"), Err(ImageError::Empty("digest")));
        assert!(matches!(parse("api:-x"), Err(ImageError::BadTag(_))));
        assert!(matches!(parse("a-/b:1"), Err(ImageError::BadComponent(_))));
        assert!(matches!(parse("a b:1"), Err(ImageError::BadComponent(_))));
        assert_eq!(parse("ghcr.io/acme/api"), Err(ImageError::Unpinned));
    }
}
