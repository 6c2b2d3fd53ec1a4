use std::borrow::Cow;

use super::{REDACTED, Redactor};

/// A fake key body of `n` characters. Secrets are built at run time so that no scanner
/// mistakes this file for a leak, and so every sample has digits and mixed case like real keys.
fn body(n: usize) -> String {
    let alphabet = b"aB3dE5gH7jK9mN2pQ4sT6vW8yZ0cF1";
    (0..n)
        .map(|i| alphabet[(i * 7 + 3) % alphabet.len()] as char)
        .collect()
}

fn upper(n: usize) -> String {
    body(n).to_ascii_uppercase()
}

fn redactor() -> Redactor {
    Redactor::new(&[]).expect("no extra patterns")
}

/// (line, secret): realistic lines that each hold one secret.
fn samples() -> Vec<(String, String)> {
    let sk_ant = format!("sk-ant-api03-{}-{}AA", body(40), body(50));
    let sk_proj = format!("sk-proj-{}_{}", body(30), body(60));
    let sk_old = format!("sk-{}", body(48));
    let ghp = format!("ghp_{}", body(36));
    let ghs = format!("ghs_{}", body(36));
    let gho = format!("gho_{}", body(36));
    let ghr = format!("ghr_{}", body(36));
    let ghu = format!("ghu_{}", body(36));
    let pat = format!("github_pat_{}_{}", upper(22), body(59));
    let akia = format!("AKIA{}", upper(16));
    let asia = format!("ASIA{}", upper(16));
    let aws_secret = format!("{}/{}+{}", body(20), body(9), body(9));
    let jwt = format!("eyJhbGciOi{}.eyJzdWIiOi{}.{}", body(10), body(30), body(43));
    let opaque = format!("{}.{}", body(24), body(16));
    let slack = format!("xoxb-{}-{}", body(12), body(24));
    let basic = "dXNlcjpjb3JyZWN0LWhvcnNlLWJhdHRlcnk9".to_string();
    let s = |line: String, secret: &str| (line, secret.to_string());
    vec![
        s(
            format!(r#"curl -H "Authorization: Bearer {opaque}" https://a.example"#),
            &opaque,
        ),
        s(
            format!(r#"curl https://api.anthropic.com -H "x-api-key: {sk_ant}""#),
            &sk_ant,
        ),
        s(format!("OPENAI_API_KEY={sk_proj}"), &sk_proj),
        s(format!(r#"export ANTHROPIC_API_KEY="{sk_ant}""#), &sk_ant),
        s(
            format!("openai.AuthenticationError: Incorrect API key provided: {sk_old}."),
            &sk_old,
        ),
        s(
            format!("origin\thttps://x-access-token:{ghs}@github.com/acme/app.git (fetch)"),
            &ghs,
        ),
        s(format!("GITHUB_TOKEN={ghp}"), &ghp),
        s(
            format!("Cloning with credentials {gho} for github.com"),
            &gho,
        ),
        s(
            format!(r#"{{"token": "{pat}", "expires": "2026-01-01"}}"#),
            &pat,
        ),
        s(format!("refresh with {ghr} then retry"), &ghr),
        s(
            format!("remote: Invalid username or password ({ghu})"),
            &ghu,
        ),
        s(format!("aws_access_key_id = {akia}"), &akia),
        s(format!("aws_secret_access_key = {aws_secret}"), &aws_secret),
        s(format!("AWS_SECRET_ACCESS_KEY={aws_secret}"), &aws_secret),
        s(
            format!(r#"    "SecretAccessKey": "{aws_secret}","#),
            &aws_secret,
        ),
        s(format!(r#"    "AccessKeyId": "{asia}","#), &asia),
        s(
            format!("Aws_Secret_Access_Key: '{aws_secret}'"),
            &aws_secret,
        ),
        s(format!("> authorization: basic {basic}"), &basic),
        s(format!("AUTHORIZATION: BEARER {jwt}"), &jwt),
        s(format!("DEBUG id_token received: {jwt}"), &jwt),
        s(
            "OperationalError: postgresql://app:Hunter2pass@db:5432/app".into(),
            "Hunter2pass",
        ),
        s(
            format!("HTTPError: 401 for url: https://a.example/x?api_key={opaque}&p=2"),
            &opaque,
        ),
        s("DB_PASSWORD=c0rrect-h0rse!".into(), "c0rrect-h0rse!"),
        s("  password: hunter2".into(), "hunter2"),
        s(
            r#"{"client_secret": "s3cr3t value", "client_id": "app"}"#.into(),
            "s3cr3t value",
        ),
        s(
            "SECRET_KEY='django-insecure-x9!k'".into(),
            "django-insecure-x9!k",
        ),
        s(
            r#"const config = { apiKey: "AbC123xyz", region: "eu" }"#.into(),
            "AbC123xyz",
        ),
        s(
            "access_token=ya29.a0AfH6SM&token_type=Bearer".into(),
            "ya29.a0AfH6SM",
        ),
        s("auth_token: 8f14e45fceea167a".into(), "8f14e45fceea167a"),
        s("passwd=letmein".into(), "letmein"),
        s(
            r#"body: {\"username\":\"bob\",\"password\":\"pa55word\"}"#.into(),
            "pa55word",
        ),
        s("    token: abc".into(), "abc"),
        s(
            "KeyError: settings {'password': 'correct horse'}".into(),
            "correct horse",
        ),
        s(
            format!("stripe key sk_live_{}", body(24)),
            &format!("sk_live_{}", body(24)),
        ),
        s(format!("SLACK_BOT={slack}"), &slack),
        s(
            format!(
                "git push https://oauth2:glpat-{}@gitlab.com/x.git",
                body(20)
            ),
            &format!("glpat-{}", body(20)),
        ),
        s(
            format!("//registry.npmjs.org/:_authToken=npm_{}", body(36)),
            &format!("npm_{}", body(36)),
        ),
        s(
            "mysql -h db --password=Tr0ub4dor&3 -e 'select 1'".into(),
            "Tr0ub4dor&3",
        ),
        s(
            "API-KEY: 7d793037a0760186574b0282f2f435e7".into(),
            "7d793037a0760186574b0282f2f435e7",
        ),
        s("private.key=MIIEvQIBADANBg".into(), "MIIEvQIBADANBg"),
        s("token=1234".into(), "1234"),
    ]
}

#[test]
fn every_sample_secret_is_hidden() {
    let r = redactor();
    let samples = samples();
    assert!(samples.len() >= 25);
    for (line, secret) in &samples {
        let out = r.redact(line);
        assert!(
            !out.contains(secret.as_str()),
            "{secret:?} survived in {out:?}"
        );
        assert!(out.contains(REDACTED), "nothing redacted in {out:?}");
    }
}

#[test]
fn labels_stay_readable() {
    let r = redactor();
    let cases = [
        (
            "Authorization: Bearer abc.def",
            "Authorization: Bearer [REDACTED]",
        ),
        (
            r#"-H "authorization: basic dXNlcjpw""#,
            r#"-H "authorization: basic [REDACTED]""#,
        ),
        ("token=abc123 user=bob", "token=[REDACTED] user=bob"),
        (
            r#"{"password": "hunter2", "user": "bob"}"#,
            r#"{"password": "[REDACTED]", "user": "bob"}"#,
        ),
        ("https://bob:pw@host/x", "https://bob:[REDACTED]@host/x"),
        ("token: abc", "token: [REDACTED]"),
        (
            "https://token:t0k@github.com/a.git",
            "https://token:[REDACTED]@github.com/a.git",
        ),
        (
            "see https://x.io/a?token=t0k",
            "see https://x.io/a?token=[REDACTED]",
        ),
        ("key=a key=b", "key=[REDACTED] key=[REDACTED]"),
    ];
    for (line, want) in cases {
        assert_eq!(r.redact(line), want, "for {line:?}");
    }
    let ghs = format!("ghs_{}", body(36));
    let line = format!("origin https://x-access-token:{ghs}@github.com/acme/app.git (fetch)");
    let want = "origin https://x-access-token:[REDACTED]@github.com/acme/app.git (fetch)";
    assert_eq!(r.redact(&line), want);
    let key = format!("sk-proj-{}", body(40));
    let line = format!("OPENAI_API_KEY={key} rest");
    assert_eq!(r.redact(&line), "OPENAI_API_KEY=[REDACTED] rest");
}

#[test]
fn innocent_lines_are_borrowed_unchanged() {
    let r = redactor();
    let lines = [
        "   Compiling corral v0.1.0 (/work/main)",
        "the key is in the drawer",
        "keyboard layout: us",
        "monkey=3",
        "tokenizer=tiktoken",
        "passwordless login enabled",
        "secret_santa draw is on friday",
        "usage: input_tokens=1234 output_tokens=567 max_tokens=4096",
        r#"{"usage": {"input_tokens": 1234, "output_tokens": 567, "cache_read_input_tokens": 0}}"#,
        "use crate::secret::Vault;",
        "    if token == expected {",
        "git checkout sk-refactor-the-scheduler-loop",
        "Bearer authentication is configured by the Authorization header",
        "test result: ok. 42 passed; 0 failed; 0 ignored",
        "export PATH=$HOME/.cargo/bin:$PATH",
        r#"curl -H "Authorization: Bearer $OPENAI_API_KEY" https://api.openai.com"#,
        "https://github.com/acme/app.git",
        r#"  "next_page_token": null,"#,
        r#"{"page": {"token": null}}"#,
        "password: ********",
        "  --token <TOKEN>  GitHub token to use",
        "Asian markets close at 08:00",
        "api_key = ${API_KEY}",
        "token=[REDACTED] and password: [REDACTED]",
    ];
    assert!(lines.len() >= 15);
    for line in lines {
        let out = r.redact(line);
        assert!(
            matches!(out, Cow::Borrowed(_)),
            "changed {line:?} into {out:?}"
        );
    }
}

#[test]
fn extra_patterns_hide_whole_matches_on_every_line() {
    let r = Redactor::new(&["tok_[a-z0-9]{8}".into(), "internal-[0-9]+".into()]).expect("valid");
    assert_eq!(r.redact("id tok_abcd1234 ok"), "id [REDACTED] ok");
    assert_eq!(
        r.redact("internal-42 and tok_00000000"),
        "[REDACTED] and [REDACTED]"
    );
    assert!(matches!(r.redact("nothing to see"), Cow::Borrowed(_)));
    assert_eq!(
        r.redact("token=x internal-7"),
        "token=[REDACTED] [REDACTED]"
    );
}

#[test]
fn extra_patterns_are_checked_and_empty_matches_ignored() {
    assert!(Redactor::new(&["(unclosed".into()]).is_err());
    let r = Redactor::new(&["z*".into(), r"\w+ACT".into()]).expect("valid");
    assert!(matches!(r.redact("abc"), Cow::Borrowed(_)));
    // A pattern matching inside an earlier marker leaves it alone.
    assert!(matches!(r.redact("[REDACTED]"), Cow::Borrowed(_)));
}

#[test]
fn ansi_colours_survive_around_a_redaction() {
    let r = redactor();
    let cases = [
        (
            "\x1b[32mtoken=abc123\x1b[0m",
            "\x1b[32mtoken=[REDACTED]\x1b[0m",
        ),
        (
            "\x1b[1mAuthorization:\x1b[0m Bearer x1y2z3",
            "\x1b[1mAuthorization:\x1b[0m Bearer [REDACTED]",
        ),
        (
            "\x1b[33mAPI_KEY\x1b[0m=\x1b[36mv4lue\x1b[0m",
            "\x1b[33mAPI_KEY\x1b[0m=\x1b[36m[REDACTED]\x1b[0m",
        ),
    ];
    for (line, want) in cases {
        assert_eq!(r.redact(line), want, "for {line:?}");
    }
    let key = format!("ghp_{}", body(36));
    let line = format!("\x1b[31m{key}\x1b[39m done");
    assert_eq!(r.redact(&line), "\x1b[31m[REDACTED]\x1b[39m done");
}

#[test]
fn escape_sequences_inside_a_secret_do_not_hide_it() {
    let r = redactor();
    let cases = [
        // A colour change inside an Anthropic key: the key is hidden, the colours stay.
        (
            "key sk-ant-ap\x1b[1mi03-abcdefghij0123456789\x1b[0m done",
            "key [REDACTED]\x1b[1m\x1b[0m done",
        ),
        // A title string and a cursor move inside: both go with the secret.
        (
            "sk-ant-api\x1b]0;title\x0703-abcdefghij\x1b[2K0123456789",
            "[REDACTED]",
        ),
        ("TOKEN=ab\x1b[1mcd\x1b[0m", "TOKEN=[REDACTED]\x1b[1m\x1b[0m"),
        (
            "\x1b[33mAPI_\x1b[1mKEY=v4l\x1b[mue next",
            "\x1b[33mAPI_\x1b[1mKEY=[REDACTED]\x1b[m next",
        ),
        // A split key in an assignment of a config pattern too.
        ("plain \x1b[2Jtext", "plain \x1b[2Jtext"),
    ];
    for (line, want) in cases {
        assert_eq!(r.redact(line), want, "for {line:?}");
        assert_eq!(r.redact(want), want, "twice for {line:?}");
    }
    let extra = Redactor::new(&["ACME-[0-9]{6}".into()]).unwrap();
    assert_eq!(
        extra.redact("id ACME-12\x1b[31m3456 ok"),
        "id [REDACTED]\x1b[31m ok"
    );
}

#[test]
fn redacting_twice_changes_nothing() {
    let r = redactor();
    for (line, _) in samples() {
        let once = r.redact(&line).into_owned();
        let twice = r.redact(&once);
        assert!(
            matches!(twice, Cow::Borrowed(_)),
            "{once:?} became {twice:?}"
        );
    }
}

#[test]
fn spans_overlapping_markers_and_each_other_merge() {
    let r = Redactor::new(&[r"\]x+".into()]).expect("valid");
    // The extra match starts inside a marker, so the marker widens it; one marker results.
    assert_eq!(r.redact("a [REDACTED]xx b"), "a [REDACTED] b");
    let key = format!("sk-{}", body(30));
    let line = format!("api_key={key},x");
    assert_eq!(r.redact(&line), "api_key=[REDACTED],x");
    let many = "token=[REDACTED] ".repeat(5_000);
    assert!(matches!(r.redact(&many), Cow::Borrowed(_)));
}

#[test]
fn every_trigger_rule_compiles_and_is_shareable() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Redactor>();
    // `redact` keeps the rules a line enables as bits of a u32.
    assert!(super::specs().len() <= 32);
    // Redactor::new compiles all built-ins; a broken one would panic here, not in production.
    let r = redactor();
    assert!(matches!(r.redact(""), Cow::Borrowed(_)));
    assert!(matches!(r.redact("ünïcödé kéy wörds ✓"), Cow::Borrowed(_)));
    assert_eq!(r.redact("pässwörd=geheim"), "pässwörd=geheim");
    assert_eq!(
        r.redact("schlüssel password=gëhéim ✓"),
        "schlüssel password=[REDACTED] ✓"
    );
}

/// Every line of a chunk that `candidates` leaves without a hit comes back from `redact`
/// unchanged; every line holding a secret has a hit.
#[test]
fn lines_without_a_chunk_candidate_are_unchanged() {
    let r = redactor();
    let mut lines: Vec<String> = samples().into_iter().map(|(line, _)| line).collect();
    lines.extend(
        [
            "plain text with nothing in it",
            "\x1b[31mto\x1b[0mken=abc123def456",
            "PASS: all good",
            "",
            "a line with a \u{fffd} and more",
        ]
        .map(String::from),
    );
    let chunk = lines.join("\n") + "\n";
    let mut hits = Vec::new();
    assert!(r.candidates(chunk.as_bytes(), &mut hits));
    assert!(hits.windows(2).all(|w| w[0] <= w[1]), "sorted: {hits:?}");
    let mut start = 0;
    for line in &lines {
        let end = start + line.len();
        let hit = hits.iter().any(|&h| h >= start && h < end);
        if !hit {
            assert!(matches!(r.redact(line), Cow::Borrowed(_)), "{line:?}");
        }
        start = end + 1;
    }
    let with_extra = Redactor::new(&["hunter2".into()]).unwrap();
    assert!(!with_extra.candidates(chunk.as_bytes(), &mut hits));
}
