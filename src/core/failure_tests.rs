use super::*;

/// 2025-12-31T12:00:00Z.
const NOW: i64 = 1_767_182_400_000;
const SEC: i64 = 1000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;

const T: Class = Class::Transient { wait: None };

fn after(ms: i64) -> Class {
    Class::Transient {
        wait: Some(Wait { until_ms: NOW + ms }),
    }
}

fn at(until_ms: i64) -> Class {
    Class::Transient {
        wait: Some(Wait { until_ms }),
    }
}

/// (log tail, local UTC offset in minutes, expected class).
fn table() -> Vec<(Vec<&'static str>, i32, Class)> {
    vec![
        // Claude Code.
        (
            vec![
                r#"API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            ],
            0,
            T,
        ),
        (
            vec![
                r#"API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#,
            ],
            0,
            T,
        ),
        (
            vec![
                r#"API Error: 401 {"type":"error","error":{"type":"authentication_error","message":"OAuth token has expired. Please obtain a new token or refresh your existing token."}} · Please run /login"#,
            ],
            0,
            Class::Auth,
        ),
        (vec!["Invalid API key · Please run /login"], 0, Class::Auth),
        (
            vec!["Claude AI usage limit reached|1767225600"],
            0,
            at(1_767_225_600_000),
        ),
        (
            vec!["5-hour limit reached ∙ resets 3pm (Europe/Berlin)"],
            60,
            after(2 * HOUR),
        ),
        (
            vec!["API Error (Request timed out.) · Retrying in 5 seconds… (attempt 3/10)"],
            0,
            after(5 * SEC),
        ),
        (
            vec![
                r#"API Error: 400 {"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#,
            ],
            0,
            Class::Permanent,
        ),
        // Codex.
        (
            vec![
                "stream error: stream disconnected before completion: Rate limit reached for gpt-5 in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 2.5s.",
            ],
            0,
            after(2500),
        ),
        (
            vec!["ERROR: exceeded retry limit, last status: 429 Too Many Requests"],
            0,
            T,
        ),
        (
            vec![
                "You've hit your usage limit. Upgrade to Pro (https://openai.com/chatgpt/pricing) or try again in 4 days 3 hours 20 minutes.",
            ],
            0,
            after(4 * 24 * HOUR + 3 * HOUR + 20 * MIN),
        ),
        (
            vec![
                r#"unexpected status 401 Unauthorized: {"error":{"message":"Your authentication token has expired. Please try signing in again."}}"#,
            ],
            0,
            Class::Auth,
        ),
        (
            vec![
                "Your access token could not be refreshed because your refresh token has expired. Please log out and sign in again.",
            ],
            0,
            Class::Auth,
        ),
        // curl.
        (
            vec!["curl: (6) Could not resolve host: api.anthropic.com"],
            0,
            T,
        ),
        (
            vec![
                "curl: (7) Failed to connect to localhost port 8080 after 0 ms: Connection refused",
            ],
            0,
            T,
        ),
        (
            vec!["curl: (28) Operation timed out after 30001 milliseconds with 0 bytes received"],
            0,
            T,
        ),
        (
            vec!["curl: (22) The requested URL returned error: 503"],
            0,
            T,
        ),
        (
            vec!["curl: (22) The requested URL returned error: 403"],
            0,
            Class::Auth,
        ),
        (
            vec![
                "HTTP/2 429",
                "retry-after: 30",
                "content-type: application/json",
            ],
            0,
            after(30 * SEC),
        ),
        (
            vec![
                "HTTP/1.1 503 Service Unavailable",
                "Retry-After: Wed, 31 Dec 2025 12:05:00 GMT",
            ],
            0,
            after(5 * MIN),
        ),
        (
            vec!["HTTP/1.1 429 Too Many Requests", "retry-after-ms: 1500"],
            0,
            after(1500),
        ),
        // Python.
        (
            vec![
                "requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: https://api.example.com/v1/x",
            ],
            0,
            T,
        ),
        (
            vec![
                "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.openai.com', port=443): Max retries exceeded with url: /v1/responses (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f3a>: Failed to establish a new connection: [Errno -2] Name or service not known'))",
            ],
            0,
            T,
        ),
        (
            vec![
                "urllib3.exceptions.ReadTimeoutError: HTTPSConnectionPool(host='api.openai.com', port=443): Read timed out. (read timeout=600)",
            ],
            0,
            T,
        ),
        (
            vec![
                "anthropic.RateLimitError: Error code: 429 - {'type': 'error', 'error': {'type': 'rate_limit_error', 'message': 'Number of request tokens has exceeded your per-minute rate limit'}}",
            ],
            0,
            T,
        ),
        (
            vec![
                "openai.AuthenticationError: Error code: 401 - {'error': {'message': 'Incorrect API key provided: sk-abc***xyz.', 'code': 'invalid_api_key'}}",
            ],
            0,
            Class::Auth,
        ),
        (
            vec!["ConnectionResetError: [Errno 104] Connection reset by peer"],
            0,
            T,
        ),
        (
            vec!["socket.gaierror: [Errno -3] Temporary failure in name resolution"],
            0,
            T,
        ),
        (
            vec!["FAILED tests/test_api.py::test_slow - Failed: Timeout >10.0s"],
            0,
            Class::Permanent,
        ),
        // Node.
        (vec!["Error: getaddrinfo ENOTFOUND api.anthropic.com"], 0, T),
        (
            vec!["Error: getaddrinfo EAI_AGAIN registry.npmjs.org"],
            0,
            T,
        ),
        (vec!["Error: read ECONNRESET"], 0, T),
        (
            vec![
                "FetchError: request to https://api.github.com/graphql failed, reason: connect ETIMEDOUT 140.82.112.6:443",
            ],
            0,
            T,
        ),
        (vec!["Error: socket hang up"], 0, T),
        (
            vec!["Error: ENOENT: no such file or directory, open '/work/x.json'"],
            0,
            Class::Permanent,
        ),
        // Plain build and runtime failures.
        (
            vec!["error[E0308]: mismatched types", "  --> src/main.rs:401:5"],
            0,
            Class::Permanent,
        ),
        (
            vec![
                "thread 'main' panicked at src/main.rs:503:9:",
                "test api::slow ... finished in 3s",
            ],
            0,
            Class::Permanent,
        ),
        (vec![], 0, Class::Permanent),
        // Wall-clock and epoch resets.
        (vec!["rate limited; resets at 15:00"], 0, after(3 * HOUR)),
        (
            vec!["Usage limit reached. Your limit will reset at 3:30pm"],
            -300,
            after(8 * HOUR + 30 * MIN),
        ),
        (
            vec!["usage limit reached, resets at 11am"],
            0,
            after(23 * HOUR),
        ),
        (
            vec!["usage limit reached, resets 12pm"],
            0,
            after(24 * HOUR),
        ),
        (
            vec!["quota exceeded, resets at 1767225600000"],
            0,
            at(1_767_225_600_000),
        ),
        (vec!["quota exceeded, resets 3 (soon)"], 0, T),
        // Several lines: auth wins anywhere, the last wait wins.
        (
            vec!["Error: read ECONNRESET", "Please run /login"],
            0,
            Class::Auth,
        ),
        (
            vec!["Please run /login", "Error: read ECONNRESET"],
            0,
            Class::Auth,
        ),
        (
            vec![
                "rate limit: try again in 2 hours",
                "rate limit: try again in 30 seconds",
            ],
            0,
            after(30 * SEC),
        ),
        (
            vec![
                "rate limit: try again in 1h 30m",
                "Error: read ECONNRESET",
                "exit status 1",
            ],
            0,
            after(90 * MIN),
        ),
        (vec!["overloaded; retry in 10 sessions"], 0, T),
        (
            vec!["HTTP/1.1 429", "Retry-After: Wed, 31 Dec 2025 11:00:00 GMT"],
            0,
            after(0),
        ),
    ]
}

#[test]
fn table_of_real_lines() {
    let classifier = Classifier::new(&[]).unwrap();
    let mut failures = Vec::new();
    for (tail, offset, want) in table() {
        let got = classifier.classify(&tail, NOW, offset);
        if got != want {
            failures.push(format!("{tail:?}\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn extra_patterns_are_transient_and_case_insensitive() {
    let line = ["Error: Spot instance reclaimed by provider"];
    assert_eq!(
        Classifier::new(&[]).unwrap().classify(&line, NOW, 0),
        Class::Permanent
    );
    let custom = Classifier::new(&[r"spot instance \w+".to_string()]).unwrap();
    assert_eq!(custom.classify(&line, NOW, 0), T);
}

#[test]
fn invalid_extra_pattern_is_an_error() {
    assert!(Classifier::new(&["(unclosed".to_string()]).is_err());
}

#[test]
fn civil_dates() {
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    assert_eq!(days_from_civil(2026, 1, 1) * DAY_MS, 1_767_225_600_000);
}

#[test]
fn evidence_names_the_trouble_and_the_wait() {
    let c = Classifier::new(&[]).unwrap();
    let tail = [
        "● Exploring the code",
        "API Error: 429 {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\"}}",
        "  retry-after: 41  ",
    ];
    assert_eq!(
        c.evidence(&tail).as_deref(),
        Some(
            "API Error: 429 {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\"}} · retry-after: 41"
        )
    );
    assert_eq!(
        c.evidence(&["retry-after: 5"]).as_deref(),
        Some("retry-after: 5")
    );
    let auth = [
        "Error: 503 Service Unavailable",
        "Invalid API key · Please run /login",
    ];
    assert_eq!(
        c.evidence(&auth).as_deref(),
        Some("Invalid API key · Please run /login")
    );
    assert_eq!(
        c.evidence(&["test result: FAILED. 3 passed; 1 failed"]),
        None
    );
}

/// The project's own tests quote statuses and login pages; they are not the service talking.
#[test]
fn test_output_quoting_statuses_or_login_text_is_permanent() {
    let c = Classifier::new(&[]).unwrap();
    let tails: [&[&str]; 6] = [
        &[
            "thread 'api::create' panicked at tests/api.rs:41:5:",
            "expected 201 Created, got 500 Internal Server Error",
        ],
        &["assertion failed: page.contains(\"Please log in\")"],
        &["  left: 503", " right: 200", "test api::health ... FAILED"],
        &[
            "E       assert 429 == 200",
            "FAILED tests/test_api.py::test_rate - assert 429 == 200",
        ],
        &[
            "FAIL src/login.test.ts",
            "    expect(res.status).toBe(401) // received 403",
        ],
        &[
            "test rate_limit::backs_off ... ok",
            "test result: FAILED. 9 passed; 1 failed",
        ],
    ];
    for tail in tails {
        assert_eq!(c.classify(tail, NOW, 0), Class::Permanent, "{tail:?}");
    }
    // Other runners' forms, and whole test runs whose lines look like service errors.
    let more: [&[&str]; 6] = [
        &[
            "    Expected substring: \"Please log in\"",
            "    Received string:    \"Welcome\"",
        ],
        &[
            "    api_test.go:42: got status 500, want 201",
            "--- FAIL: TestCreate (0.00s)",
            "FAIL\tshop/api\t0.012s",
        ],
        &["    limit_test.go:19: status code = 429, want 200"],
        &["127.0.0.1 - - [21/Nov/2026 09:20:01] \"POST /users HTTP/1.1\" 500 -"],
        &[
            "running 2 tests",
            "---- api::health stdout ----",
            "response: HTTP/1.1 503 Service Unavailable",
            "test result: FAILED. 1 passed; 1 failed",
        ],
        &[
            "=== RUN   TestLimit",
            "    rate limit reached",
            "--- FAIL: TestLimit (0.00s)",
            "FAIL\tshop\t0.01s",
        ],
    ];
    for tail in more {
        assert_eq!(c.classify(tail, NOW, 0), Class::Permanent, "{tail:?}");
    }
    // After a test run has ended, the service talking counts again.
    let after = [
        "running 1 test",
        "response: HTTP/1.1 503",
        "test result: ok. 1 passed",
        "Error: 503 Service Unavailable",
    ];
    assert_eq!(c.classify(&after, NOW, 0), T);
    // Claude Code's API error counts even where a test run did not print its end.
    let cut = [
        "running 4 tests",
        "API Error: 429 {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\"}}",
    ];
    assert_eq!(c.classify(&cut, NOW, 0), T);
    // A real error after the test run still counts.
    let mixed = [
        "expected 201 Created, got 500",
        "API Error: 529 {\"type\":\"overloaded_error\"}",
    ];
    assert_eq!(c.classify(&mixed, NOW, 0), T);
}

#[test]
fn a_permanent_failure_is_summed_up_by_its_last_error_line() {
    let c = Classifier::new(&[]).unwrap();
    let tail = [
        "error[E0308]: mismatched types",
        "  --> src/cart.rs:12:5",
        "",
        "For more information about this error, try `rustc --explain E0308`.",
        "error: could not compile `shop` (bin \"shop\") due to 1 previous error",
        "  leaving the feature for review",
    ];
    assert_eq!(
        c.summary(&tail).as_deref(),
        Some("error[E0308]: mismatched types")
    );
    let anywhere = [
        "running 3 tests",
        "test result: FAILED. 2 passed; 1 failed",
        "done",
    ];
    assert_eq!(
        c.summary(&anywhere).as_deref(),
        Some("test result: FAILED. 2 passed; 1 failed")
    );
    assert_eq!(c.summary(&["all done", "  "]).as_deref(), Some("all done"));
    assert_eq!(c.summary(&[]), None);
    // A wait given on a line of its own is kept with the trouble.
    let limited = [
        "Error: usage limit reached for this account",
        "Please try again in 40s",
    ];
    assert_eq!(
        c.evidence(&limited).as_deref(),
        Some("Error: usage limit reached for this account · Please try again in 40s")
    );
}

/// What the real CLIs print without credentials (tests/fixtures/agents/README.md says how each
/// was captured), with the error corral shows for it.
#[test]
fn the_real_clis_without_credentials_are_credentials_failures_in_their_own_words() {
    let c = Classifier::new(&[]).unwrap();
    let fixture = |name: &str| {
        let path = format!(
            "{}/tests/fixtures/agents/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let cases = [
        (
            "claude-2.1.197-not-logged-in.stream-json",
            "Not logged in · Please run /login",
        ),
        (
            "gemini-0.61.0-no-auth.stderr",
            "Please set an Auth method in your /home/user/.gemini/settings.json or specify one of the following environment variables before running: GEMINI_API_KEY, GOOGLE_GENAI_USE_VERTEXAI, GOOGLE_GENAI_USE_GCA",
        ),
        (
            "gemini-0.61.0-no-auth-untrusted.stderr",
            "Please set an Auth method in your /home/user/.gemini/settings.json or specify one of the following environment variables before running: GEMINI_API_KEY, GOOGLE_GENAI_USE_VERTEXAI, GOOGLE_GENAI_USE_GCA",
        ),
        (
            "codex-0.171.0-unauthorized.stderr",
            "ERROR: unexpected status 401 Unauthorized: Missing bearer or basic authentication in header, url: http://127.0.0.1:18401/v1/responses",
        ),
        ("codex-0.171.0-login-status.stderr", "Not logged in"),
    ];
    for (name, shown) in cases {
        let text = fixture(name);
        let mut tail: Vec<&str> = text.lines().collect();
        // As a failed report run ends: corral's own note comes last.
        tail.push("corral: the agent exited without reporting pass or fail");
        assert_eq!(c.classify(&tail, NOW, 0), Class::Auth, "{name}");
        assert_eq!(c.evidence(&tail).as_deref(), Some(shown), "{name}");
    }
    // Codex's removed flag is the run's own fault: permanent, said in its words.
    let text = fixture("codex-0.171.0-full-auto.stderr");
    let tail: Vec<&str> = text.lines().collect();
    assert_eq!(c.classify(&tail, NOW, 0), Class::Permanent);
    assert_eq!(
        c.summary(&tail).as_deref(),
        Some("error: unexpected argument '--full-auto' found")
    );
}

#[test]
fn the_summary_is_the_agents_own_last_error_never_a_usage_report_or_corrals_note() {
    let c = Classifier::new(&[]).unwrap();
    // A fake agent's last lines: a usage report, then its error.
    let tail = [
        "building",
        r#"corral-usage: {"input_tokens":1200,"output_tokens":3400,"cost_usd":0.12}"#,
        "error: could not compile project: mismatched types",
        "corral: the agent exited without reporting pass or fail",
    ];
    assert_eq!(
        c.summary(&tail).as_deref(),
        Some("error: could not compile project: mismatched types")
    );
    // The usage report is not a last resort either; the agent's last words are.
    let quiet = [
        "all done",
        r#"corral-usage: {"input_tokens":1200}"#,
        "corral: the agent exited without reporting pass or fail",
    ];
    assert_eq!(c.summary(&quiet).as_deref(), Some("all done"));
    // corral's note only when the agent said nothing.
    let silent = [
        r#"{"type":"system","subtype":"init","tools":["Bash"]}"#,
        "corral: the agent exited without reporting pass or fail",
    ];
    assert_eq!(
        c.summary(&silent).as_deref(),
        Some("corral: the agent exited without reporting pass or fail")
    );
    // Claude's stream-json: the result text, not the raw object.
    let claude = [
        r#"{"type":"result","subtype":"error_during_execution","is_error":true,"result":"Error: the tests failed","session_id":"x"}"#,
    ];
    assert_eq!(
        c.summary(&claude).as_deref(),
        Some("Error: the tests failed")
    );
}
