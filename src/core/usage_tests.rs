use super::*;

/// The fixture the end-to-end capture test prints through a real child.
const CLAUDE_RESULT: &str = include_str!("../../tests/fixtures/claude_result.json");

const STREAM_INIT: &str = r#"{"type":"system","subtype":"init","cwd":"/home/dev/shop","session_id":"7c0f1b2e-3d4a-4e5f-9a8b-1c2d3e4f5a6b","tools":["Task","Bash","Edit","Read"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","apiKeySource":"none"}"#;
const STREAM_ASSISTANT: &str = r#"{"type":"assistant","message":{"id":"msg_01XyZ","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Let me look at the cart module and report the \"result\" of the totals."}],"stop_reason":null,"usage":{"input_tokens":4,"cache_creation_input_tokens":6120,"cache_read_input_tokens":13442,"output_tokens":2,"service_tier":"standard"}},"parent_tool_use_id":null,"session_id":"7c0f1b2e-3d4a-4e5f-9a8b-1c2d3e4f5a6b"}"#;
const STREAM_TOOL_USE: &str = r#"{"type":"assistant","message":{"id":"msg_01Ab","type":"message","role":"assistant","content":[{"type":"tool_use","id":"toolu_01","name":"Bash","input":{"command":"cargo test","result":"pending"}}],"usage":{"input_tokens":7,"cache_read_input_tokens":19562,"output_tokens":120}},"session_id":"7c0f"}"#;
const STREAM_TOOL_RESULT: &str = r#"{"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_01","type":"tool_result","content":"test result: ok. 12 passed; input_tokens counted"}]},"session_id":"7c0f"}"#;
const STREAM_RESULT: &str = r#"{"type":"result","subtype":"success","is_error":false,"duration_ms":9120,"num_turns":3,"result":"Done.","session_id":"7c0f","total_cost_usd":0.0421,"usage":{"input_tokens":11,"cache_creation_input_tokens":6120,"cache_read_input_tokens":33004,"output_tokens":122}}"#;

const TURN_1: &str = r#"{"type":"turn.completed","usage":{"input_tokens":24763,"cached_input_tokens":24448,"output_tokens":122}}"#;
const TURN_2: &str = r#"{"type":"turn.completed","usage":{"input_tokens":30000,"cached_input_tokens":20000,"output_tokens":878}}"#;

fn usage(input: u64, output: u64, read: u64, write: u64, cost: Option<u64>) -> Option<Usage> {
    Some(Usage {
        input_tokens: input,
        output_tokens: output,
        cache_read_tokens: read,
        cache_write_tokens: write,
        cost_micros: cost,
    })
}

fn scan(lines: &[&str]) -> Option<Usage> {
    let mut scanner = UsageScanner::default();
    for line in lines {
        scanner.line(line);
    }
    scanner.usage()
}

/// (what, lines in order, expected usage).
fn table() -> Vec<(&'static str, Vec<&'static str>, Option<Usage>)> {
    vec![
        (
            "claude json result",
            vec!["Working…", CLAUDE_RESULT.trim_end()],
            usage(1200, 3400, 50000, 8000, Some(123_400)),
        ),
        (
            "claude stream-json: assistant usage ignored, the result is the total",
            vec![
                STREAM_INIT,
                STREAM_ASSISTANT,
                STREAM_TOOL_USE,
                STREAM_TOOL_RESULT,
                STREAM_RESULT,
            ],
            usage(11, 122, 33004, 6120, Some(42_100)),
        ),
        (
            "claude stream-json cut short: assistant lines alone report nothing",
            vec![STREAM_INIT, STREAM_ASSISTANT, STREAM_TOOL_USE],
            None,
        ),
        (
            "the claude result replaces what came before",
            vec![
                r#"corral-usage: {"input_tokens":5,"cost_usd":9}"#,
                STREAM_RESULT,
            ],
            usage(11, 122, 33004, 6120, Some(42_100)),
        ),
        (
            "claude error result: zero tokens, still a cost",
            vec![
                r#"{"type":"result","subtype":"error_max_turns","is_error":true,"total_cost_usd":0.5,"usage":{"input_tokens":0,"output_tokens":0}}"#,
            ],
            usage(0, 0, 0, 0, Some(500_000)),
        ),
        (
            // Claude Code always prints `usage`; the cheap filter relies on the word `tokens`.
            "a result without any token count is not looked at",
            vec![r#"{"type":"result","total_cost_usd":0.5}"#],
            None,
        ),
        (
            "codex turns add up, cached input split out",
            vec![
                r#"{"type":"thread.started","thread_id":"0199a213-81c0-7800-8aa1-bbab2a035a53"}"#,
                r#"{"type":"turn.started"}"#,
                r#"{"type":"item.completed","item":{"id":"item_3","type":"agent_message","text":"Done; tokens are fine."}}"#,
                TURN_1,
                r#"{"type":"turn.started"}"#,
                TURN_2,
            ],
            usage(315 + 10000, 122 + 878, 24448 + 20000, 0, None),
        ),
        (
            "older codex token_count under msg: running totals, the last wins",
            vec![
                r#"{"id":"0","msg":{"type":"token_count","info":null}}"#,
                r#"{"id":"0","msg":{"type":"token_count","info":{"total_token_usage":{"input_tokens":5000,"cached_input_tokens":1000,"output_tokens":300,"reasoning_output_tokens":128,"total_tokens":5300},"last_token_usage":{"input_tokens":5000,"cached_input_tokens":1000,"output_tokens":300,"reasoning_output_tokens":128,"total_tokens":5300},"model_context_window":272000}}}"#,
                r#"{"id":"0","msg":{"type":"token_count","info":{"total_token_usage":{"input_tokens":9000,"cached_input_tokens":4000,"output_tokens":700,"reasoning_output_tokens":256,"total_tokens":9700},"last_token_usage":{"input_tokens":4000,"cached_input_tokens":3000,"output_tokens":400,"reasoning_output_tokens":128,"total_tokens":4400},"model_context_window":272000}}}"#,
            ],
            usage(5000, 700, 4000, 0, None),
        ),
        (
            "token_count at top level with the totals directly on it",
            vec![
                r#"{"type":"token_count","total_token_usage":{"input_tokens":800,"cached_input_tokens":200,"output_tokens":90}}"#,
            ],
            usage(600, 90, 200, 0, None),
        ),
        (
            "codex plain text total",
            vec![
                "[2025-08-01T10:00:00] codex",
                "I fixed the failing test.",
                "[2025-08-01T10:00:00] tokens used: 1234",
            ],
            usage(1234, 0, 0, 0, None),
        ),
        (
            "codex plain text with separators, the last one wins",
            vec!["tokens used: 1,000", "  tokens used: 12,345"],
            usage(12345, 0, 0, 0, None),
        ),
        (
            "newer codex: a coloured heading, the number on the next line",
            vec![
                "\x1b[35m\x1b[3mtokens used\x1b[0m\x1b[0m",
                "24,885",
                "Final answer.",
            ],
            usage(24885, 0, 0, 0, None),
        ),
        (
            "a heading followed by something else counts nothing",
            vec!["tokens used", "Final answer: 42", "17"],
            None,
        ),
        (
            "plain text only when nothing structured was seen",
            vec![TURN_1, "tokens used: 99999"],
            usage(315, 122, 24448, 0, None),
        ),
        (
            "corral-usage line, with colour and indent",
            vec![
                r#"corral-usage: {"input_tokens":1000,"output_tokens":200,"cost_usd":0.12}"#,
                "  \x1b[2mcorral-usage: {\"input_tokens\":1500,\"output_tokens\":300,\"cache_read_tokens\":7,\"cache_write_tokens\":8,\"cost_usd\":0.1234567}\x1b[0m",
            ],
            usage(1500, 300, 7, 8, Some(123_457)),
        ),
        (
            "corral-usage replaces codex turns",
            vec![TURN_1, r#"corral-usage: {"cost_usd":1.5}"#],
            usage(0, 0, 0, 0, Some(1_500_000)),
        ),
        (
            "codex turns after a total add to it",
            vec![r#"corral-usage: {"input_tokens":10}"#, TURN_1],
            usage(325, 122, 24448, 0, None),
        ),
        (
            "an SGR-coloured JSON result",
            vec![
                "\x1b[1;34m{\x1b[0m\x1b[34;1m\"type\"\x1b[0m:\x1b[0;32m\"result\"\x1b[0m,\"total_cost_usd\":\x1b[0;39m0.25\x1b[0m,\"usage\":{\"input_tokens\":3,\"output_tokens\":4}}",
            ],
            usage(3, 4, 0, 0, Some(250_000)),
        ),
        (
            "prose mentioning the fields is ignored",
            vec![
                "The result JSON has total_cost_usd and usage.input_tokens fields.",
                "Set \"type\":\"result\" and input_tokens in the mock.",
                "Tokens used: 500 (prompt: 400)",
                "We counted the tokens used: many",
                "// corral-usage: is documented in the README",
                r#"log: corral-usage: {"input_tokens":5}"#,
                r#"data: {"type":"result","total_cost_usd":0.5,"usage":{"input_tokens":1}}"#,
                "[INFO] tokens used: 5",
                "[12:00] the tokens used: 7",
            ],
            None,
        ),
        (
            "malformed or wrongly typed JSON is ignored",
            vec![
                r#"{"type":"result","total_cost_usd":0.1,"usage":{"input_tokens":12"#,
                r#"{"type":"result","total_cost_usd":"0.1","usage":{"input_tokens":1}}"#,
                r#"{"type":"turn.completed","usage":{"input_tokens":"many"}}"#,
                r#"{"type":"result"} trailing tokens"#,
                r#"corral-usage: {"input_tokens":}"#,
                r#"corral-usage: input_tokens=5"#,
                r#"corral-usage: {}"#,
            ],
            None,
        ),
        (
            "negative, fractional, absurd and overflowing numbers are ignored",
            vec![
                r#"{"type":"result","total_cost_usd":-0.5,"usage":{"input_tokens":1}}"#,
                r#"{"type":"result","total_cost_usd":5e9,"usage":{"input_tokens":1}}"#,
                r#"{"type":"result","total_cost_usd":1e400,"usage":{"input_tokens":1}}"#,
                r#"{"type":"turn.completed","usage":{"input_tokens":-5,"cached_input_tokens":0,"output_tokens":1}}"#,
                r#"{"type":"turn.completed","usage":{"input_tokens":1.5,"output_tokens":1}}"#,
                r#"{"type":"turn.completed","usage":{"input_tokens":99999999999999999999,"output_tokens":1}}"#,
                r#"corral-usage: {"input_tokens":2000000000000}"#,
                r#"corral-usage: {"cost_usd":-1}"#,
                "tokens used: 99,999,999,999,999",
                "tokens used: -5",
            ],
            None,
        ),
        (
            "null counts are zero",
            vec![
                r#"{"type":"result","total_cost_usd":0,"usage":{"input_tokens":2,"cache_read_input_tokens":null}}"#,
            ],
            usage(2, 0, 0, 0, Some(0)),
        ),
        ("nothing at all", vec![], None),
    ]
}

#[test]
fn recognises_what_agents_report() {
    for (what, lines, want) in table() {
        assert_eq!(scan(&lines), want, "{what}");
    }
}

#[test]
fn the_fixture_is_one_line_worth_exactly_its_cost() {
    assert_eq!(CLAUDE_RESULT.lines().count(), 1);
    assert_eq!(
        scan(&[CLAUDE_RESULT]).and_then(|u| u.cost_micros),
        Some(123_400)
    );
}

#[test]
fn codex_turns_saturate_instead_of_overflowing() {
    let line = r#"{"type":"turn.completed","usage":{"input_tokens":1000000000000,"output_tokens":1000000000000}}"#;
    let mut scanner = UsageScanner::default();
    for _ in 0..20_000 {
        scanner.line(line);
    }
    let total = scanner.usage().map(|u| u.output_tokens);
    assert_eq!(total, Some(20_000 * 1_000_000_000_000));
    let mut full = UsageScanner {
        reported: Some(Usage {
            output_tokens: u64::MAX - 1,
            ..Usage::default()
        }),
        ..UsageScanner::default()
    };
    full.line(line);
    assert_eq!(full.usage().map(|u| u.output_tokens), Some(u64::MAX));
}

#[test]
fn colour_codes_are_stripped_and_other_escapes_kept() {
    assert_eq!(strip_sgr("\x1b[1;31m{\"a\":1}\x1b[0m  "), "{\"a\":1}");
    assert_eq!(strip_sgr("\x1b[2K{}"), "\x1b[2K{}");
    assert_eq!(strip_sgr("a\x1b["), "a\x1b[");
    assert_eq!(skip_leading(" \t\x1b[0m \x1b[32mok"), "ok");
    assert_eq!(skip_leading("\x1b[2Kx"), "\x1b[2Kx");
}
