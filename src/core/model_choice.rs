//! Choosing the `model` and `effort` a run passes to its agent.
//!
//! A value can be set at four levels, highest first: the feature's own override, the profile,
//! `[defaults]`, and the `CORRAL_MODEL` / `CORRAL_EFFORT` environment variables. The first level
//! holding a well-formed value wins. A malformed value is skipped and reported, never passed on:
//! these strings end up in an agent's argv, and a feature's override can be written by an agent,
//! so only a plain identifier is trusted to mean what the user meant.
//!
//! This module is pure: the caller reads the environment and passes the values in.

/// The raw value at each level, highest precedence first. `None` or `""` means "not set here".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Levels<'a> {
    /// The feature's own override (stored with the feature).
    pub feature: Option<&'a str>,
    /// The profile's `model` / `effort` key.
    pub profile: Option<&'a str>,
    /// `[defaults]` in `corral.toml`.
    pub defaults: Option<&'a str>,
    /// The value of `CORRAL_MODEL` / `CORRAL_EFFORT`, as read by the caller.
    pub env: Option<&'a str>,
}

/// Longest part of a bad value quoted in a warning; the rest is cut so that a pasted file
/// does not flood the log.
const QUOTE_LIMIT: usize = 60;

/// Picks the model for a run: the first well-formed value in `levels`, and one warning per
/// malformed value met before it (each naming its level, e.g.
/// `feature 12: model "gpt 5": contains whitespace; skipped`).
///
/// `feature_label` names the feature after the word "feature" (usually its id), and
/// `profile_name` names the profile. The chosen value is trimmed.
pub fn resolve_model(
    levels: &Levels,
    feature_label: &str,
    profile_name: &str,
) -> (Option<String>, Vec<String>) {
    resolve(
        "model",
        "CORRAL_MODEL",
        levels,
        None,
        feature_label,
        profile_name,
    )
}

/// Picks the effort for a run, like [`resolve_model`]; in addition, when `allowed` is set (the
/// profile's `efforts` list), an effort not in it is skipped with a warning. An empty list
/// therefore allows no effort at all.
pub fn resolve_effort(
    levels: &Levels,
    allowed: Option<&[String]>,
    feature_label: &str,
    profile_name: &str,
) -> (Option<String>, Vec<String>) {
    resolve(
        "effort",
        "CORRAL_EFFORT",
        levels,
        allowed,
        feature_label,
        profile_name,
    )
}

fn resolve(
    what: &str,
    env_name: &str,
    levels: &Levels,
    allowed: Option<&[String]>,
    feature_label: &str,
    profile_name: &str,
) -> (Option<String>, Vec<String>) {
    let ordered = [
        (levels.feature, format!("feature {feature_label}")),
        (levels.profile, format!("profile {profile_name}")),
        (levels.defaults, "[defaults]".to_string()),
        (levels.env, env_name.to_string()),
    ];
    let mut warnings = Vec::new();
    for (raw, source) in ordered {
        // An empty string is how people unset a variable (`CORRAL_MODEL=`), so it is silent.
        let Some(raw) = raw.filter(|r| !r.is_empty()) else {
            continue;
        };
        match check(raw, allowed) {
            Ok(value) => return (Some(value.to_string()), warnings),
            Err(problem) => warnings.push(format!(
                "{source}: {what} {}: {problem}; skipped",
                quote(raw)
            )),
        }
    }
    (None, warnings)
}

/// The trimmed value if it is a plain identifier (and allowed), else what is wrong with it.
fn check<'v>(raw: &'v str, allowed: Option<&[String]>) -> Result<&'v str, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err("is blank".into());
    }
    if value.chars().any(char::is_whitespace) {
        return Err("contains whitespace".into());
    }
    if let Some(bad) = value.chars().find(|c| !is_allowed_char(*c)) {
        return Err(format!(
            "contains {bad:?} (only letters, digits and . _ : / - are allowed)"
        ));
    }
    // A value placed after `--model` that starts with `-` would be read as another flag by
    // many argument parsers: an agent could smuggle `--yolo` in as a "model".
    if value.starts_with('-') {
        return Err("starts with '-' (it would read as a flag)".into());
    }
    if let Some(list) = allowed
        && !list.iter().any(|a| a == value)
    {
        return Err(if list.is_empty() {
            "the profile's efforts list is empty".into()
        } else {
            format!("not in the profile's efforts [{}]", list.join(", "))
        });
    }
    Ok(value)
}

fn is_allowed_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '-')
}

/// `raw` in double quotes with control characters escaped, cut at [`QUOTE_LIMIT`] characters.
fn quote(raw: &str) -> String {
    let mut shown: String = raw.chars().take(QUOTE_LIMIT).collect();
    if shown.len() < raw.len() {
        shown.push('…');
    }
    format!("{shown:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels<'a>(
        feature: Option<&'a str>,
        profile: Option<&'a str>,
        defaults: Option<&'a str>,
        env: Option<&'a str>,
    ) -> Levels<'a> {
        Levels {
            feature,
            profile,
            defaults,
            env,
        }
    }

    #[test]
    fn model_precedence_and_skipping() {
        #[rustfmt::skip]
        let cases: &[(Levels, Option<&str>, &[&str])] = &[
            (levels(None, None, None, None), None, &[]),
            (levels(Some("f"), Some("p"), Some("d"), Some("e")), Some("f"), &[]),
            (levels(None, Some("p"), Some("d"), Some("e")), Some("p"), &[]),
            (levels(None, None, Some("d"), Some("e")), Some("d"), &[]),
            (levels(None, None, None, Some("e")), Some("e"), &[]),
            // Empty levels are silent.
            (levels(Some(""), Some(""), Some(""), Some("e")), Some("e"), &[]),
            (levels(Some(""), None, None, Some("")), None, &[]),
            // Surrounding whitespace is trimmed, not an error.
            (levels(Some("  gpt-5\n"), None, None, None), Some("gpt-5"), &[]),
            // Realistic names pass.
            (levels(Some("anthropic/claude-sonnet-4.5"), None, None, None),
                Some("anthropic/claude-sonnet-4.5"), &[]),
            (levels(Some("ollama:llama3.1_8b"), None, None, None), Some("ollama:llama3.1_8b"), &[]),
            // A malformed level falls through to the next one, with a warning naming it.
            (levels(Some("gpt 5"), Some("p"), None, None), Some("p"),
                &[r#"feature 12: model "gpt 5": contains whitespace; skipped"#]),
            (levels(Some("   "), None, Some("$(id)"), Some("ok")), Some("ok"), &[
                r#"feature 12: model "   ": is blank; skipped"#,
                r#"[defaults]: model "$(id)": contains '$' (only letters, digits and . _ : / - are allowed); skipped"#,
            ]),
            (levels(None, Some("a;b"), None, None), None,
                &[r#"profile coding: model "a;b": contains ';' (only letters, digits and . _ : / - are allowed); skipped"#]),
            (levels(None, None, None, Some("x\ty")), None,
                &[r#"CORRAL_MODEL: model "x\ty": contains whitespace; skipped"#]),
            (levels(Some("--yolo"), None, None, None), None,
                &[r#"feature 12: model "--yolo": starts with '-' (it would read as a flag); skipped"#]),
            (levels(Some("modèle"), None, None, None), None,
                &[r#"feature 12: model "modèle": contains 'è' (only letters, digits and . _ : / - are allowed); skipped"#]),
            (levels(Some("a\nb"), None, None, None), None,
                &[r#"feature 12: model "a\nb": contains whitespace; skipped"#]),
            // Lower levels are not even looked at once a value is chosen.
            (levels(Some("good"), Some("bad one"), None, None), Some("good"), &[]),
        ];
        for (lv, want, want_warnings) in cases {
            let (got, warnings) = resolve_model(lv, "12", "coding");
            assert_eq!(got.as_deref(), *want, "{lv:?}");
            assert_eq!(warnings, *want_warnings, "{lv:?}");
        }
    }

    #[test]
    fn effort_respects_allowed_list() {
        let list: Vec<String> = ["low", "medium", "high"].map(String::from).to_vec();
        let empty: Vec<String> = Vec::new();
        #[rustfmt::skip]
        type Case<'a> = (Levels<'a>, Option<&'a [String]>, Option<&'a str>, &'a [&'a str]);
        let cases: &[Case] = &[
            (
                levels(Some("high"), None, None, None),
                Some(&list),
                Some("high"),
                &[],
            ),
            (
                levels(Some("max"), None, None, None),
                None,
                Some("max"),
                &[],
            ),
            (
                levels(Some("max"), Some("low"), None, None),
                Some(&list),
                Some("low"),
                &[
                    r#"feature 3: effort "max": not in the profile's efforts [low, medium, high]; skipped"#,
                ],
            ),
            // Membership is exact: no case folding, but trimming happens first.
            (
                levels(Some("HIGH"), None, None, Some(" medium ")),
                Some(&list),
                Some("medium"),
                &[
                    r#"feature 3: effort "HIGH": not in the profile's efforts [low, medium, high]; skipped"#,
                ],
            ),
            (
                levels(None, None, Some("low"), None),
                Some(&empty),
                None,
                &[r#"[defaults]: effort "low": the profile's efforts list is empty; skipped"#],
            ),
            (
                levels(None, None, None, Some("hi gh")),
                Some(&list),
                None,
                &[r#"CORRAL_EFFORT: effort "hi gh": contains whitespace; skipped"#],
            ),
        ];
        for (lv, allowed, want, want_warnings) in cases {
            let (got, warnings) = resolve_effort(lv, *allowed, "3", "coding");
            assert_eq!(got.as_deref(), *want, "{lv:?}");
            assert_eq!(warnings, *want_warnings, "{lv:?}");
        }
    }

    #[test]
    fn long_bad_values_are_cut_in_warnings() {
        let long = format!("{} x", "a".repeat(500));
        let (got, warnings) = resolve_model(&levels(Some(&long), None, None, None), "1", "p");
        assert_eq!(got, None);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].len() < 150, "{}", warnings[0]);
        assert!(warnings[0].contains('…'));
    }
}
