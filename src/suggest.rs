//! The one "did you mean" helper every phase uses.

/// The candidate closest to `wrong`, if one is close enough to be a likely typo.
///
/// A near spelling wins; failing that, a candidate that contains the word or
/// is contained in it (`replicas` for `read_replicas`), when both have at
/// least four letters.
pub fn closest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wrong_l = wrong.to_ascii_lowercase();
    // (tier, score, name): tier 1 is a near spelling, tier 0 a containment.
    let mut best: Option<(u8, f64, &'a str)> = None;
    for c in candidates {
        if c == wrong {
            continue;
        }
        let c_l = c.to_ascii_lowercase();
        let score = strsim::jaro_winkler(&wrong_l, &c_l);
        let edits = strsim::damerau_levenshtein(&wrong_l, &c_l);
        // Accept a close edit distance, or a strong prefix-weighted similarity.
        let near = edits <= (wrong.len().max(c.len()) / 3).max(1) || score >= 0.88;
        let contains = wrong_l.len() >= 4 && c_l.len() >= 4 && (c_l.contains(&wrong_l) || wrong_l.contains(&c_l));
        let tier = match (near, contains) {
            (true, _) => 1,
            (false, true) => 0,
            (false, false) => continue,
        };
        let better = match best {
            None => true,
            Some((bt, bs, bn)) => (tier, score) > (bt, bs) || (tier == bt && score == bs && c < bn),
        };
        if better {
            best = Some((tier, score, c));
        }
    }
    best.map(|(_, _, c)| c)
}

/// `word` with its indefinite article: "a gate", "an integration".
pub fn with_article(word: &str) -> String {
    let vowel = word.chars().next().is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {word}", if vowel { "an" } else { "a" })
}

#[cfg(test)]
mod tests {
    use super::closest;
    #[test]
    fn finds_typos() {
        assert_eq!(closest("postgress", ["postgres", "redis", "mongodb"]), Some("postgres"));
        assert_eq!(closest("stagng", ["dev", "staging", "qa"]), Some("staging"));
        assert_eq!(closest("zzz", ["dev", "staging"]), None);
        assert_eq!(closest("replicas", ["version", "read_replicas", "storage"]), Some("read_replicas"));
        assert_eq!(closest("rep", ["read_replicas"]), None);
    }
}
