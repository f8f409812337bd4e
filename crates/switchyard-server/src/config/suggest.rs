//! "Did you mean" for unknown keys, names and values.

/// How alike two names must be (Jaro-Winkler, case-insensitive) to be suggested.
/// 0.8 accepts a dropped, doubled or swapped letter and a missing plural `s`, and
/// rejects unrelated names of similar length.
const THRESHOLD: f64 = 0.8;

/// The candidate closest to `input`, if one is close enough.
pub(crate) fn closest<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let input = input.to_lowercase();
    candidates
        .iter()
        .map(|&candidate| {
            let score = strsim::jaro_winkler(&input, &candidate.to_lowercase());
            (candidate, score)
        })
        .filter(|&(_, score)| score >= THRESHOLD)
        // The first of equally close candidates wins, so suggestions are stable.
        .fold(
            None,
            |best: Option<(&str, f64)>, (candidate, score)| match best {
                Some((_, best_score)) if best_score >= score => best,
                _ => Some((candidate, score)),
            },
        )
        .map(|(candidate, _)| candidate)
}

/// `` unknown {what} `input`; did you mean `x`? ``, or the list of valid names when none
/// is close, or a note that there are none.
///
/// `what` is the singular noun (`field`, `deployment`) and `plural` the phrase for the
/// list (`fields`, `deployments are defined`).
pub(crate) fn unknown(what: &str, input: &str, candidates: &[&str], plural: &str) -> String {
    let mut message = format!("unknown {what} `{input}`");
    message.push_str(&hint(input, candidates, plural));
    message
}

/// The part of [`unknown`] after the name: `; did you mean ..?` or `; expected one of ..`.
pub(crate) fn hint(input: &str, candidates: &[&str], plural: &str) -> String {
    /// Longer lists are cut, since they stop helping; every provider type still fits.
    const MAX_LISTED: usize = 16;
    if let Some(suggestion) = closest(input, candidates) {
        return format!("; did you mean `{suggestion}`?");
    }
    match candidates {
        [] => format!("; no {plural}"),
        [only] => format!("; expected `{only}`"),
        _ => {
            let mut listed: Vec<String> = candidates
                .iter()
                .take(MAX_LISTED)
                .map(|candidate| format!("`{candidate}`"))
                .collect();
            if candidates.len() > MAX_LISTED {
                listed.push("...".to_owned());
            }
            format!("; expected one of {}", listed.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let fields = ["type", "base_url", "api_key", "headers", "timeouts"];
        assert_eq!(closest("base_ur", &fields), Some("base_url"));
        assert_eq!(closest("timeout", &fields), Some("timeouts"));
        assert_eq!(closest("header", &fields), Some("headers"));
        assert_eq!(closest("apikey", &fields), Some("api_key"));
        assert_eq!(closest("Base_URL", &fields), Some("base_url"));
        assert_eq!(closest("model", &fields), None);
        assert_eq!(closest("region", &fields), None);

        let sections = ["server", "providers", "deployments", "models"];
        assert_eq!(closest("provider", &sections), Some("providers"));
        assert_eq!(closest("model", &sections), Some("models"));
        assert_eq!(closest("deployment", &sections), Some("deployments"));
        assert_eq!(closest("routes", &sections), None);

        assert_eq!(
            closest("azure-eu", &["azure-eus", "openai"]),
            Some("azure-eus")
        );
    }

    #[test]
    fn lists_candidates_when_none_is_close() {
        assert_eq!(
            unknown("field", "zzz", &["a", "b"], "fields"),
            "unknown field `zzz`; expected one of `a`, `b`"
        );
        assert_eq!(
            unknown("provider", "x", &[], "providers are defined"),
            "unknown provider `x`; no providers are defined"
        );
    }
}
