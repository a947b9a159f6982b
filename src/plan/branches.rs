//! The branches of `on_push(...)` in each CI's own syntax.
//!
//! A branch is a name or a pattern the checker accepted (E0330, E0603): `*`
//! matches any run of characters within one `/`-separated part, and `**` as
//! the whole last part matches any rest, `/` included. GitHub's branch
//! filters and Jenkins' Ant globs read exactly that as written; GitLab needs
//! a regex and AWS IAM a `StringLike` wildcard, made here.
//!
//! **Invariant:** every rendering matches the same branches (IAM, which has
//! no wildcard that stops at `/`, matches a superset: a trust policy that
//! also admits `release/a/b` for `release/*`).

/// Whether the branch is a pattern (holds `*`) rather than a name.
pub fn is_glob(branch: &str) -> bool {
    branch.contains('*')
}

/// An anchored regex, read alike by RE2 (GitLab) and `java.util.regex`,
/// matching the branches the name or pattern matches. Every `/` is written
/// `\/`, so the regex fits between the slashes of a GitLab `=~ /.../`.
pub fn regex(branch: &str) -> String {
    let mut out = String::from("^");
    let parts: Vec<&str> = branch.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str("\\/");
        }
        if *part == "**" {
            out.push_str(".*");
            continue;
        }
        for c in part.chars() {
            match c {
                '*' => out.push_str("[^\\/]*"),
                c if c.is_ascii_alphanumeric() || c == '-' || c == '_' || !c.is_ascii() => out.push(c),
                c => {
                    out.push('\\');
                    out.push(c);
                }
            }
        }
    }
    out.push('$');
    out
}

/// The branch as an IAM `StringLike` value: `*` there matches any run,
/// `/` included, so `**` becomes `*`.
pub fn iam(branch: &str) -> String {
    branch.replace("**", "*")
}

/// The branches for a sentence: "`main`", "`main` or `release/*`",
/// "`a`, `b` or `c`".
pub fn listed(branches: &[String]) -> String {
    let quoted: Vec<String> = branches.iter().map(|b| format!("`{b}`")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes() {
        assert_eq!(regex("main"), "^main$");
        assert_eq!(regex("release/*"), "^release\\/[^\\/]*$");
        assert_eq!(regex("feature/**"), "^feature\\/.*$");
        assert_eq!(regex("**"), "^.*$");
        assert_eq!(regex("v1.2-rc*"), "^v1\\.2-rc[^\\/]*$");
        assert_eq!(iam("feature/**"), "feature/*");
    }
}
