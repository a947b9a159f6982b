//! The one "did you mean" helper every phase uses.

/// The candidate closest to `wrong`, if one is close enough to be a likely typo.
pub fn closest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wrong_l = wrong.to_ascii_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for c in candidates {
        if c == wrong {
            continue;
        }
        let score = strsim::jaro_winkler(&wrong_l, &c.to_ascii_lowercase());
        let edits = strsim::damerau_levenshtein(&wrong_l, &c.to_ascii_lowercase());
        // Accept a close edit distance, or a strong prefix-weighted similarity.
        let ok = edits <= (wrong.len().max(c.len()) / 3).max(1) || score >= 0.88;
        if ok && best.is_none_or(|(b, n)| score > b || (score == b && c < n)) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;
    #[test]
    fn finds_typos() {
        assert_eq!(closest("postgress", ["postgres", "redis", "mongodb"]), Some("postgres"));
        assert_eq!(closest("stagng", ["dev", "staging", "qa"]), Some("staging"));
        assert_eq!(closest("zzz", ["dev", "staging"]), None);
    }
}
