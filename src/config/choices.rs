//! Which profile each role uses: the `[scheduler]` choices (`coding_profile`,
//! `testing_profile`, `initializer_profile`), checked against the merged profiles, and what
//! corral says at start about the profiles it will run: which one a role uses when several
//! could serve and none is named, and which programs are not installed.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::error::{ConfigError, Location, line_of};
use super::raw::RawScheduler;
use super::{Config, Profile};
use crate::api::Role;

/// One `[scheduler] ROLE_profile = "NAME"` as a file wrote it.
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    pub role: Role,
    pub name: String,
    pub at: Location,
}

/// The key that names the profile of `role`.
fn key(role: Role) -> &'static str {
    match role {
        Role::Testing => "testing_profile",
        Role::Initializer => "initializer_profile",
        _ => "coding_profile",
    }
}

/// The choices one file makes, with their lines.
pub(crate) fn of_layer(raw: &RawScheduler, text: &str, label: &str) -> Vec<Choice> {
    [
        (Role::Coding, &raw.coding_profile),
        (Role::Testing, &raw.testing_profile),
        (Role::Initializer, &raw.initializer_profile),
    ]
    .into_iter()
    .filter_map(|(role, value)| {
        let value = value.as_ref()?;
        Some(Choice {
            role,
            name: value.get_ref().clone(),
            at: Location {
                label: label.to_string(),
                line: Some(line_of(text, value.span().start)),
            },
        })
    })
    .collect()
}

/// A named profile must exist and have the role it is named for. (A disabled one is allowed:
/// the Profiles view turns profiles off and on, and the role falls back meanwhile.)
pub(crate) fn check(
    choice: &Choice,
    profiles: &BTreeMap<String, Profile>,
) -> Result<(), ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        at: choice.at.clone(),
        key: format!("scheduler.{}", key(choice.role)),
        message,
    };
    let Some(profile) = profiles.get(&choice.name) else {
        let of_role: Vec<String> = profiles
            .values()
            .filter(|p| p.role == choice.role)
            .map(|p| format!("\"{}\"", p.name))
            .collect();
        let known = if of_role.is_empty() {
            format!("there is no profile with role = \"{}\"", choice.role)
        } else {
            format!(
                "profiles with role = \"{}\": {}",
                choice.role,
                of_role.join(", ")
            )
        };
        return Err(invalid(format!(
            "no profile named \"{}\" ([profiles.{}] is not defined); {known}",
            choice.name, choice.name
        )));
    };
    if profile.role != choice.role {
        return Err(invalid(format!(
            "profile \"{}\" has role = \"{}\", not \"{}\"",
            choice.name, profile.role, choice.role
        )));
    }
    Ok(())
}

/// The profile jobs of `role` run with on this machine: [`Config::profile_for`], except that
/// when `[scheduler]` names none for the role, a profile whose program is not installed gives
/// way to the first enabled one (by name) whose program is: copying every ready-made profile
/// must not make every feature fail on a tool that is not there. A named profile is used
/// whatever its state, since a person chose it.
pub fn runnable_profile_for<'a>(
    config: &'a Config,
    role: Role,
    project: &Path,
    path: Option<&OsStr>,
) -> Option<&'a Profile> {
    let first = config.profile_for(role)?;
    if config.scheduler.chosen(role) == Some(first.name.as_str())
        || program_problem(first, project, path).is_none()
    {
        return Some(first);
    }
    let installed = config
        .profiles
        .values()
        .filter(|p| p.enabled && p.role == role)
        .find(|p| program_problem(p, project, path).is_none());
    Some(installed.unwrap_or(first))
}

/// What corral says when it starts on `config` in `project`: for each role with several enabled
/// profiles and none named (or the named one disabled), which profile it uses and how to choose;
/// for each enabled profile whose program is not installed, that its runs will not start.
/// `path` is the `PATH` to search programs in (a profile's own `env.PATH` wins).
pub fn start_report(config: &Config, project: &Path, path: Option<&OsStr>) -> Vec<String> {
    let mut lines = Vec::new();
    for role in [Role::Coding, Role::Testing, Role::Initializer] {
        let enabled: Vec<&str> = config
            .profiles
            .values()
            .filter(|p| p.enabled && p.role == role)
            .map(|p| p.name.as_str())
            .collect();
        let Some(used) = runnable_profile_for(config, role, project, path) else {
            continue;
        };
        let skipped = config
            .profile_for(role)
            .filter(|first| first.name != used.name && config.scheduler.chosen(role).is_none());
        let how = format!(
            "set {} = \"NAME\" under [scheduler] in corral.toml to choose",
            key(role)
        );
        match config.scheduler.chosen(role) {
            Some(named) if named != used.name => lines.push(format!(
                "{role} uses profile {}: the named {} = \"{named}\" is disabled",
                used.name,
                key(role)
            )),
            None if skipped.is_some() => lines.push(format!(
                "{role} uses profile {}, the first by name of {} whose program is installed; {how}",
                used.name,
                enabled.join(", ")
            )),
            None if enabled.len() > 1 => lines.push(format!(
                "{role} uses profile {}, the first by name of {}; {how}",
                used.name,
                enabled.join(", ")
            )),
            _ => {}
        }
    }
    for profile in config.profiles.values().filter(|p| p.enabled) {
        if let Some(problem) = program_problem(profile, project, path) {
            lines.push(format!(
                "profile {}: {problem}: its runs will fail to start (install it, or set enabled = false)",
                profile.name
            ));
        }
    }
    lines
}

/// Why the profile's program cannot start, if it cannot: not found, or not executable.
fn program_problem(profile: &Profile, project: &Path, path: Option<&OsStr>) -> Option<String> {
    let program = profile
        .command
        .first()?
        .replace("{project}", &project.display().to_string());
    // Any other placeholder is only known per run.
    if program.contains('{') {
        return None;
    }
    let path = profile.env.get("PATH").map(OsStr::new).or(path);
    let found: Option<PathBuf> = if program.contains('/') {
        let p = project.join(&program);
        p.exists().then_some(p)
    } else {
        path.into_iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join(&program))
            .find(|p| p.is_file())
    };
    let Some(found) = found else {
        return Some(if program.contains('/') {
            format!("program `{program}` does not exist")
        } else {
            format!("program `{program}` is not installed (not found on PATH)")
        });
    };
    use std::os::unix::fs::PermissionsExt;
    let executable =
        std::fs::metadata(&found).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    (!executable).then(|| format!("program `{}` is not executable", found.display()))
}

#[cfg(test)]
#[path = "choices_tests.rs"]
mod tests;
