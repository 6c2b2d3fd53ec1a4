//! The profile a feature names (`"profile": "careful"`, `--profile careful`) must be one that
//! can run it: a coding or testing profile of corral.toml. Anything else would be accepted and
//! then quietly run with the role's default profile.

use super::backlog::{BacklogError, BacklogErrors, FeatureSpec, Subject};
use crate::api::Role;
use std::collections::BTreeMap;

/// Every profile of the loaded config (enabled or not) with its role.
pub type ProfileRoles = BTreeMap<String, Role>;

/// Why a feature may not name `profile`; `None` when it may. A disabled profile may be named:
/// it can be enabled again, and until then the scheduler says why the feature waits.
pub fn profile_problem(profile: &str, profiles: &ProfileRoles) -> Option<String> {
    let usable: Vec<&str> = profiles
        .iter()
        .filter(|(_, role)| matches!(role, Role::Coding | Role::Testing))
        .map(|(name, _)| name.as_str())
        .collect();
    let choices = if usable.is_empty() {
        "corral.toml has no coding or testing profile".to_string()
    } else {
        format!("coding and testing profiles: {}", usable.join(", "))
    };
    match profiles.get(profile) {
        Some(Role::Coding | Role::Testing) => None,
        Some(role) => Some(format!(
            "profile {profile:?} has role {role}, and a feature runs with a coding or testing \
             profile ({choices})"
        )),
        None => Some(format!("no profile {profile:?} in corral.toml ({choices})")),
    }
}

/// The problem of each spec's profile, on the field `profile`.
pub fn profile_errors(
    specs: &[FeatureSpec],
    profiles: &ProfileRoles,
    subject: impl Fn(usize, &FeatureSpec) -> Subject,
) -> Vec<BacklogError> {
    specs
        .iter()
        .enumerate()
        .filter_map(|(i, spec)| {
            let message = profile_problem(spec.profile.as_deref()?, profiles)?;
            Some(BacklogError {
                subject: subject(i, spec),
                field: "profile".into(),
                message,
            })
        })
        .collect()
}

/// `checked` with the problems in `more` added: an `Ok` with any becomes an `Err`.
pub fn with_problems<T>(
    checked: Result<T, BacklogErrors>,
    more: Vec<BacklogError>,
) -> Result<T, BacklogErrors> {
    match checked {
        Ok(value) if more.is_empty() => Ok(value),
        Ok(_) => Err(BacklogErrors::new(more)),
        Err(e) => {
            let hidden = e.more;
            let mut all = e.errors;
            all.extend(more);
            let mut errors = BacklogErrors::new(all);
            errors.more += hidden;
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feature_names_an_existing_coding_or_testing_profile() {
        let profiles: ProfileRoles = [
            ("coding".to_string(), Role::Coding),
            ("checker".to_string(), Role::Testing),
            ("starter".to_string(), Role::Initializer),
        ]
        .into();
        assert_eq!(profile_problem("coding", &profiles), None);
        assert_eq!(profile_problem("checker", &profiles), None);
        assert_eq!(
            profile_problem("carful", &profiles).unwrap(),
            "no profile \"carful\" in corral.toml (coding and testing profiles: checker, coding)"
        );
        assert_eq!(
            profile_problem("starter", &profiles).unwrap(),
            "profile \"starter\" has role initializer, and a feature runs with a coding or \
             testing profile (coding and testing profiles: checker, coding)"
        );
        assert_eq!(
            profile_problem("x", &ProfileRoles::new()).unwrap(),
            "no profile \"x\" in corral.toml (corral.toml has no coding or testing profile)"
        );
    }
}
