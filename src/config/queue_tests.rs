//! `[retry]`, `[breaker]`, `[budget]` and the profile keys `account` and `transient_patterns`.

use std::fs;
use std::time::Duration;

use super::*;

fn parse_err(text: &str) -> String {
    match Config::parse(text, "corral.toml") {
        Ok(config) => panic!("expected an error, got {config:?}"),
        Err(err) => err.to_string(),
    }
}

const CODING: &str = "[profiles.coding]\nrole = \"coding\"\ncommand = [\"a\"]\n";

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn every_key_parses() {
    let text = format!(
        "[retry]\nbase = \"10s\"\ncap = \"1h\"\ntransient_budget = 7\n\n\
         [breaker]\nthreshold = 5\ncooldown = \"1m\"\nmax_cooldown = \"2h\"\n\n\
         [budget]\nusd = 12.345678\n\n\
         {CODING}account = \"anthropic-main\"\n\
         transient_patterns = [\"overloaded_error\", \"try again in \\\\d+\"]\n"
    );
    let c = Config::parse(&text, "corral.toml").unwrap();
    assert_eq!(
        c.retry,
        RetryConfig {
            base: secs(10),
            cap: secs(3600),
            transient_budget: 7
        }
    );
    assert_eq!(
        c.breaker,
        BreakerConfig {
            threshold: 5,
            cooldown: secs(60),
            max_cooldown: secs(7200)
        }
    );
    assert_eq!(c.budget.usd_micros, Some(12_345_678));
    let coding = &c.profiles["coding"];
    assert_eq!(coding.account, "anthropic-main");
    assert_eq!(
        coding.transient_patterns,
        ["overloaded_error", "try again in \\d+"]
    );
}

/// The template with every commented-out example turned on: each `# [table]` header and each
/// `# key = value` line that is valid TOML on its own (prose lines stay comments).
fn template_with_examples() -> String {
    DEFAULT_CONFIG
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(example)
                if (example.starts_with('[') && example.ends_with(']'))
                    || (example.contains(" = ") && example.parse::<toml::Table>().is_ok()) =>
            {
                example
            }
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn template_examples_parse_and_show_the_defaults() {
    let text = template_with_examples();
    let c = match Config::parse(&text, "corral.toml") {
        Ok(c) => c,
        Err(err) => panic!("{err}\n{text}"),
    };
    // The examples of [retry] and [breaker] are the defaults.
    assert_eq!(c.retry, RetryConfig::default());
    assert_eq!(c.breaker, BreakerConfig::default());
    assert_eq!(c.budget.usd_micros, Some(25_000_000));
    let coding = &c.profiles["coding"];
    assert_eq!(coding.account, "anthropic-main");
    assert_eq!(
        coding.transient_patterns,
        ["capacity exceeded", "worker \\d+ is busy"]
    );
    assert_eq!(c.logs, LogsConfig::default());
}

#[test]
fn budget_takes_integers_and_rounds_to_micro_dollars() {
    let usd = |v: &str| {
        Config::parse(&format!("[budget]\nusd = {v}\n"), "x")
            .unwrap()
            .budget
            .usd_micros
    };
    assert_eq!(usd("25"), Some(25_000_000));
    assert_eq!(usd("25.0"), Some(25_000_000));
    assert_eq!(usd("0.000001"), Some(1));
    assert_eq!(usd("0.0000016"), Some(2));
    assert_eq!(usd("1e3"), Some(1_000_000_000));
}

#[test]
fn defaults_when_keys_are_absent() {
    let c = Config::parse(CODING, "corral.toml").unwrap();
    assert_eq!(
        c.retry,
        RetryConfig {
            base: secs(5),
            cap: secs(30 * 60),
            transient_budget: 20
        }
    );
    assert_eq!(
        c.breaker,
        BreakerConfig {
            threshold: 3,
            cooldown: secs(120),
            max_cooldown: secs(3600)
        }
    );
    assert_eq!(c.budget.usd_micros, None);
    // A profile's account is its own name unless it says otherwise.
    assert_eq!(c.profiles["coding"].account, "coding");
    assert!(c.profiles["coding"].transient_patterns.is_empty());
    // Empty tables are fine too.
    let c = Config::parse("[retry]\n[breaker]\n[budget]\n", "x").unwrap();
    assert_eq!(c.retry, RetryConfig::default());
    assert_eq!(c.budget, BudgetConfig::default());
}

#[test]
fn bad_values_name_key_and_line() {
    let cases = [
        (
            "[retry]\nbase = \"0s\"\n",
            "corral.toml:2: retry.base: must be longer than zero",
        ),
        (
            "[retry]\n\nbase = \"5\"\n",
            "corral.toml:3: retry.base: expected a duration like \"30m\"",
        ),
        (
            "[retry]\ncap = 30\n",
            "corral.toml:2: retry.cap: invalid type: integer `30`, expected a duration like \"30m\"",
        ),
        (
            "[retry]\ntransient_budget = -1\n",
            "corral.toml:2: retry.transient_budget: invalid value: integer `-1`, expected u32",
        ),
        (
            "[breaker]\nthreshold = 0\n",
            "corral.toml:2: breaker.threshold: must be at least 1, got 0",
        ),
        (
            "[breaker]\nthreshold = 5000000000\n",
            "corral.toml:2: breaker.threshold: must be at most 4294967295, got 5000000000",
        ),
        (
            "[breaker]\ncooldown = \"0ms\"\n",
            "corral.toml:2: breaker.cooldown: must be longer than zero",
        ),
        (
            "[budget]\nusd = 0\n",
            "corral.toml:2: budget.usd: must be greater than 0, got 0",
        ),
        (
            "[budget]\nusd = -1.5\n",
            "corral.toml:2: budget.usd: must be greater than 0, got -1.5",
        ),
        (
            "[budget]\nusd = nan\n",
            "corral.toml:2: budget.usd: must be a finite number of dollars, got NaN",
        ),
        (
            "[budget]\nusd = inf\n",
            "corral.toml:2: budget.usd: must be a finite number of dollars, got inf",
        ),
        (
            "[budget]\nusd = 0.0000004\n",
            "corral.toml:2: budget.usd: must be at least 0.000001 (a millionth of a dollar), \
             got 0.0000004",
        ),
        (
            "[budget]\nusd = 1e300\n",
            "corral.toml:2: budget.usd: is too large: at most 18446744073709 dollars",
        ),
        (
            "[budget]\nusd = \"25\"\n",
            "corral.toml:2: budget.usd: invalid type: string \"25\", \
             expected an amount of US dollars like 25.0",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(parse_err(text), want, "{text}");
    }
}

#[test]
fn out_of_order_pairs_blame_the_key_that_disagrees() {
    let cases = [
        (
            "[retry]\nbase = \"1h\"\n",
            "corral.toml:2: retry.base: must not be longer than retry.cap (default 30m)",
        ),
        (
            "[retry]\ncap = \"1s\"\n",
            "corral.toml:2: retry.cap: must not be shorter than retry.base (default 5s)",
        ),
        // One file sets both: the error is on the key the rule is about.
        (
            "[retry]\ncap = \"10m\"\nbase = \"1h\"\n",
            "corral.toml:3: retry.base: must not be longer than retry.cap (10m)",
        ),
        (
            "[breaker]\nmax_cooldown = \"1m\"\n",
            "corral.toml:2: breaker.max_cooldown: must not be shorter than breaker.cooldown \
             (default 2m)",
        ),
        (
            "[breaker]\ncooldown = \"2h\"\n",
            "corral.toml:2: breaker.cooldown: must not be longer than breaker.max_cooldown \
             (default 1h)",
        ),
        (
            "[breaker]\nmax_cooldown = \"5m\"\ncooldown = \"10m\"\n",
            "corral.toml:2: breaker.max_cooldown: must not be shorter than breaker.cooldown \
             (10m)",
        ),
        // Dotted keys and inline tables are found too.
        (
            "# budget\nretry.base = \"1h\"\n",
            "corral.toml:2: retry.base: must not be longer than retry.cap (default 30m)",
        ),
        (
            "\nbreaker = { cooldown = \"1m\", max_cooldown = \"30s\" }\n",
            "corral.toml:2: breaker.max_cooldown: must not be shorter than breaker.cooldown \
             (1m)",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(parse_err(text), want, "{text}");
    }
    // Equal is in order.
    let c = Config::parse("[retry]\nbase = \"1m\"\ncap = \"1m\"\n", "x").unwrap();
    assert_eq!((c.retry.base, c.retry.cap), (secs(60), secs(60)));
}

#[test]
fn unknown_keys_in_the_new_tables_are_named() {
    assert_eq!(
        parse_err("[retry]\nbase = \"5s\"\nbudget = 3\n"),
        "corral.toml:3: retry.budget: unknown key, expected one of `base`, `cap`, \
         `transient_budget`"
    );
    assert_eq!(
        parse_err("[breaker]\ncool_down = \"1m\"\n"),
        "corral.toml:2: breaker.cool_down: unknown key, expected one of `threshold`, \
         `cooldown`, `max_cooldown`"
    );
    assert_eq!(
        parse_err("[budget]\ndollars = 5\n"),
        "corral.toml:2: budget.dollars: unknown key, expected `usd`"
    );
}

#[test]
fn bad_profile_keys_name_key_and_line() {
    assert_eq!(
        parse_err(&format!("{CODING}account = \"\"\n")),
        "corral.toml:4: profiles.coding.account: must not be empty \
         (leave it out to use the profile's name)"
    );
    assert_eq!(
        parse_err(&format!("{CODING}account = \"  \"\n")),
        "corral.toml:4: profiles.coding.account: must not be empty \
         (leave it out to use the profile's name)"
    );
    assert_eq!(
        parse_err(&format!("{CODING}account = 1\n")),
        "corral.toml:4: profiles.coding.account: invalid type: integer `1`, expected a string"
    );
    assert_eq!(
        parse_err(&format!(
            "{CODING}transient_patterns = [\n  \"overloaded\",\n  \"(unclosed\",\n]\n"
        )),
        "corral.toml:6: profiles.coding.transient_patterns[1]: \
         not a valid regular expression \"(unclosed\": unclosed group"
    );
    assert_eq!(
        parse_err(&format!("{CODING}transient_patterns = [\"a\", \"\"]\n")),
        "corral.toml:4: profiles.coding.transient_patterns[1]: \
         an empty pattern would match every log, making every failure transient"
    );
    assert_eq!(
        parse_err(&format!("{CODING}transient_patterns = \"busy\"\n")),
        "corral.toml:4: profiles.coding.transient_patterns: invalid type: string \"busy\", \
         expected a sequence"
    );
    assert_eq!(
        parse_err(&format!("{CODING}transient_patterns = [3]\n")),
        "corral.toml:4: profiles.coding.transient_patterns[0]: invalid type: integer `3`, \
         expected a regular expression"
    );
    // Each compiles on its own, but not all three as the one set a classifier builds.
    let wide = "\"\\\\w{100}\"";
    assert_eq!(
        parse_err(&format!(
            "{CODING}transient_patterns = [{wide}, {wide}, {wide}]\n"
        )),
        "corral.toml:4: profiles.coding.transient_patterns: the patterns together: \
         too large once compiled (the limit is 10485760 bytes)"
    );
}

const USER: &str = "
[retry]
base = \"1m\"
transient_budget = 9

[breaker]
threshold = 4

[budget]
usd = 100
";

/// Loads a project over a user file, both in one temporary directory; also returns the two
/// paths as errors show them.
fn load(user: &str, project: &str) -> (Result<Config, ConfigError>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let user_file = dir.path().join("user.toml");
    fs::write(&user_file, user).unwrap();
    // A profile at the end (a loaded project needs one); the lines above keep their numbers.
    let project =
        format!("{project}\n[profiles.any-agent]\nrole = \"custom\"\ncommand = [\"a\"]\n");
    fs::write(dir.path().join("corral.toml"), project).unwrap();
    let config = Config::load_with_user(dir.path(), Some(&user_file));
    let show = |name: &str| dir.path().join(name).display().to_string();
    (config, show("user.toml"), show("corral.toml"))
}

#[test]
fn project_file_merges_over_user_file_key_by_key() {
    let project = "[retry]\ncap = \"2h\"\n\n[breaker]\nthreshold = 2\n\n[budget]\nusd = 2.5\n";
    let (config, _, _) = load(USER, project);
    let c = config.unwrap();
    // The user's base and the project's cap are both kept.
    assert_eq!(
        c.retry,
        RetryConfig {
            base: secs(60),
            cap: secs(7200),
            transient_budget: 9
        }
    );
    assert_eq!(c.breaker.threshold, 2);
    assert_eq!(c.breaker.cooldown, secs(120));
    assert_eq!(c.budget.usd_micros, Some(2_500_000));

    // The order of base and cap is checked on the merged values: a base above the default
    // cap is fine when the project raises the cap.
    let (config, _, _) = load("[retry]\nbase = \"1h\"\n", "[retry]\ncap = \"2h\"\n");
    assert_eq!(config.unwrap().retry.base, secs(3600));

    // An empty project file keeps everything the user file says.
    let (config, _, _) = load(USER, "");
    let c = config.unwrap();
    assert_eq!(
        (c.retry.base, c.breaker.threshold, c.budget.usd_micros),
        (secs(60), 4, Some(100_000_000))
    );
}

#[test]
fn out_of_order_pairs_across_files_blame_the_later_file() {
    let (config, user, project) = load("[retry]\nbase = \"1h\"\n", "\n[retry]\ncap = \"10m\"\n");
    assert_eq!(
        config.unwrap_err().to_string(),
        format!("{project}:3: retry.cap: must not be shorter than retry.base (1h in {user}:2)")
    );
    let (config, user, project) = load(
        "[breaker]\n\nmax_cooldown = \"5m\"\n",
        "[breaker]\ncooldown = \"10m\"\n",
    );
    assert_eq!(
        config.unwrap_err().to_string(),
        format!(
            "{project}:2: breaker.cooldown: must not be longer than breaker.max_cooldown \
             (5m in {user}:3)"
        )
    );
    // A value checked on its own is reported in its own file, before any merge.
    let (config, user, _) = load("[budget]\nusd = -3\n", "[budget]\nusd = 3\n");
    assert_eq!(
        config.unwrap_err().to_string(),
        format!("{user}:2: budget.usd: must be greater than 0, got -3")
    );
}

#[test]
fn profile_keys_come_with_the_profile_that_wins() {
    let user = format!("{CODING}account = \"shared\"\ntransient_patterns = [\"busy\"]\n");
    let project = "[profiles.coding]\nrole = \"coding\"\ncommand = [\"b\"]\n";
    let (config, _, _) = load(&user, project);
    let coding = &config.unwrap().profiles["coding"];
    // The project's profile replaces the user's whole, account and patterns included.
    assert_eq!(coding.account, "coding");
    assert!(coding.transient_patterns.is_empty());
}
