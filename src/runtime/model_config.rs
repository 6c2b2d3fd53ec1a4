//! What the core and the runtime take from `corral.toml`: the profiles of each role, the
//! scheduler's limits, retry and breaker settings, the budget, failure classifiers per
//! profile, and how to log in again on an account.

use crate::config::Config;
use crate::core::Model;
use crate::core::failure::Classifier;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Tells the core which profile serves each role, the scheduler's limits, the retry and
/// breaker settings and the budget.
pub(super) fn configure_model(model: &mut Model, config: &Config, project: &Path) {
    use crate::api::Role;
    use crate::core::scheduler::{Policy, ProfileInfo, ProfileSlot, RetryPolicy};
    let path = std::env::var_os("PATH");
    model.profiles = [Role::Initializer, Role::Coding, Role::Testing]
        .into_iter()
        .filter_map(|role| {
            let p = crate::config::runnable_profile_for(config, role, project, path.as_deref())?;
            let slot = ProfileSlot {
                name: p.name.clone(),
                max_parallel: p.max_parallel,
            };
            Some((role, slot))
        })
        .collect();
    model.profile_info = config
        .profiles
        .values()
        .filter(|p| p.enabled)
        .map(|p| {
            let info = ProfileInfo {
                role: p.role,
                account: p.account.clone(),
                max_parallel: p.max_parallel,
            };
            (p.name.clone(), info)
        })
        .collect();
    model.policy = Policy {
        max_attempts: config.scheduler.max_attempts,
        testing_agents: config.scheduler.testing_agents,
    };
    let ms = |d: Duration| d.as_millis().min(i64::MAX as u128) as u64;
    model.retry = RetryPolicy {
        base_ms: ms(config.retry.base),
        cap_ms: ms(config.retry.cap),
        transient_budget: config.retry.transient_budget,
    };
    model.breaker_config = crate::core::breaker::Config {
        threshold: config.breaker.threshold,
        cooldown_ms: ms(config.breaker.cooldown) as i64,
        max_cooldown_ms: ms(config.breaker.max_cooldown) as i64,
    };
    model.budget_micros = config.budget.usd_micros;
    model.deny_after_ms = config
        .profiles
        .values()
        .filter_map(|p| Some((p.name.clone(), ms(p.deny_after?))))
        .collect();
}

/// A classifier per profile; a pattern that does not compile (the config check should have
/// refused it) is left out with a warning rather than stopping corral.
pub(super) fn build_classifiers(config: &Config) -> HashMap<String, Arc<Classifier>> {
    config
        .profiles
        .values()
        .filter_map(|p| {
            let c = Classifier::new(&p.transient_patterns)
                .inspect_err(|e| {
                    log::warn!("profiles.{}.transient_patterns: {e}", p.name);
                })
                .or_else(|_| Classifier::new(&[]))
                .ok()?;
            Some((p.name.clone(), Arc::new(c)))
        })
        .collect()
}

/// How to log in again on `account`, from the agent its profiles run: the first word of any
/// argument that names a known agent, so `sh -c "claude -p …"` is recognised too.
pub(super) fn login_hint(config: &Config, account: &str) -> String {
    let words = config
        .profiles
        .values()
        .filter(|p| p.account == account)
        .flat_map(|p| p.command.iter())
        .flat_map(|arg| arg.split_whitespace())
        .map(|w| w.rsplit('/').next().unwrap_or(w));
    let how = words
        .into_iter()
        .find_map(|w| match w {
            "claude" => Some("run `claude` and type /login"),
            "codex" => Some("run `codex login`"),
            "gemini" => Some(
                "run `gemini` and sign in (or set GEMINI_API_KEY through the profile's env_file)",
            ),
            "aider" => Some("check the API key in the profile's env or env_file"),
            _ => None,
        })
        .map_or_else(|| format!("log in to {account} again"), str::to_string);
    format!("{how}, then press b")
}
