//! The profiles as the Profiles view lists them, from `corral.toml` and the live runs.

use crate::api::ProfileView;
use crate::config::Config;
use crate::core::model_choice::{Levels, resolve_model};

/// One view per profile. The model is the one a run of the profile passes on when its
/// feature names none: the profile's, else `[defaults]`, else `CORRAL_MODEL` (`env_model`),
/// the first well-formed of them; `None` when the agent picks its own.
pub(super) fn profile_views(
    config: &Config,
    env_model: Option<&str>,
    live_runs: impl Fn(&str) -> usize,
) -> Vec<ProfileView> {
    config
        .profiles
        .values()
        .map(|p| {
            let levels = Levels {
                feature: None,
                profile: p.model.as_deref(),
                defaults: config.defaults.model.as_deref(),
                env: env_model,
            };
            ProfileView {
                name: p.name.clone(),
                role: p.role,
                command: p.command.clone(),
                model: resolve_model(&levels, "-", &p.name).0,
                enabled: p.enabled,
                live_runs: live_runs(&p.name),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_column_says_what_a_run_passes_on() {
        let text = r#"
[defaults]
model = "opus"
[profiles.claude]
role = "coding"
command = ["claude", "--model", "{model}"]
model = "sonnet"
[profiles.plain]
role = "testing"
command = ["tester"]
"#;
        let config = Config::parse(text, "corral.toml").expect("parses");
        let views = profile_views(&config, None, |name| usize::from(name == "claude"));
        let got: Vec<(&str, Option<&str>, usize)> = views
            .iter()
            .map(|v| (v.name.as_str(), v.model.as_deref(), v.live_runs))
            .collect();
        assert_eq!(
            got,
            [("claude", Some("sonnet"), 1), ("plain", Some("opus"), 0)]
        );
        let bare = Config::parse("[profiles.a]\nrole = \"coding\"\ncommand = [\"a\"]\n", "x")
            .expect("parses");
        assert_eq!(profile_views(&bare, None, |_| 0)[0].model, None);
        assert_eq!(
            profile_views(&bare, Some("haiku"), |_| 0)[0]
                .model
                .as_deref(),
            Some("haiku")
        );
    }
}
