//! A profile's `env_file`: extra environment variables for the agent, in dotenv format.
//!
//! The file usually holds secrets (API keys), so errors say where the problem is but never
//! quote the line. It is parsed by `dotenvy` without touching corral's own environment.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// Why an env file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("env_file {}: {source}", path.display())]
    Read {
        /// The file, joined to the project root.
        path: PathBuf,
        /// Why reading it failed.
        source: io::Error,
    },
    /// A line is not `KEY=value` (its text is left out: it may hold a secret).
    #[error("env_file {}:{line}: {problem}", path.display())]
    Parse {
        /// The file, joined to the project root.
        path: PathBuf,
        /// 1-based line where the offending entry starts.
        line: usize,
        /// What is wrong, in words that quote nothing from the file.
        problem: String,
    },
}

/// Reads `<project>/<rel>` (an absolute `rel` is used as is) as a dotenv file.
///
/// Accepts `KEY=value`, `export KEY=value`, comments, blank lines, single and double quotes
/// (double-quoted values may span lines), and `$VAR` / `${VAR}` substitution, which looks at
/// corral's environment first and then at keys defined earlier in the file. When a key is
/// set twice, the last one wins, as when a shell sources the file.
pub fn read_env_file(project: &Path, rel: &str) -> Result<BTreeMap<String, String>, EnvFileError> {
    let path = project.join(rel);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(source) => return Err(EnvFileError::Read { path, source }),
    };
    // An editor's byte-order mark would otherwise become part of the first key.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    // No process argument or environment entry can hold a NUL byte, so refuse it here, where
    // the line is known, rather than at spawn time.
    if let Some(at) = text.find('\0') {
        return Err(EnvFileError::Parse {
            line: line_of_offset(text, at),
            path,
            problem: "contains a NUL byte".into(),
        });
    }
    let mut vars = BTreeMap::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok((key, value)) => {
                vars.insert(key, value);
            }
            Err(err) => {
                let line = error_line(text, &err);
                return Err(EnvFileError::Parse {
                    path,
                    line,
                    problem: describe(&err),
                });
            }
        }
    }
    Ok(vars)
}

/// What went wrong, without dotenvy's own message, which quotes the line.
fn describe(err: &dotenvy::Error) -> String {
    match err {
        dotenvy::Error::LineParse(..) => {
            "expected KEY=value (check quotes, spaces and `\\` escapes; \
             the line is not shown as it may hold a secret)"
                .into()
        }
        // Text is read before parsing, so dotenvy sees no I/O; keep any other error terse.
        dotenvy::Error::Io(e) => format!("cannot be read: {}", e.kind()),
        _ => "cannot be parsed".into(),
    }
}

/// 1-based line of byte `offset` in `text`.
fn line_of_offset(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The line where the entry that produced `err` starts.
///
/// dotenvy reports the entry's text but not its line. Parsing the first `n` lines gives the
/// same error exactly when `n` reaches the end of that entry (the entries before it are
/// fine, and a cut-off entry fails differently), so a binary search finds that end, and the
/// entry's own line breaks lead back to its start.
fn error_line(text: &str, err: &dotenvy::Error) -> usize {
    let ends: Vec<usize> = text
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .chain((!text.ends_with('\n')).then_some(text.len()))
        .collect();
    let same_error = |n: usize| -> bool {
        let prefix = text.get(..ends[n - 1]).unwrap_or(text);
        dotenvy::from_read_iter(prefix.as_bytes())
            .find_map(Result::err)
            .is_some_and(|e| same(&e, err))
    };
    if ends.is_empty() {
        return 1;
    }
    // Smallest n in 1..=len with same_error(n); the whole text (n = len) gave `err`.
    let (mut lo, mut hi) = (1, ends.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if same_error(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let inner_breaks = match err {
        dotenvy::Error::LineParse(entry, _) => {
            entry.trim_end_matches(['\n', '\r']).matches('\n').count()
        }
        _ => 0,
    };
    lo.saturating_sub(inner_breaks).max(1)
}

fn same(a: &dotenvy::Error, b: &dotenvy::Error) -> bool {
    match (a, b) {
        (dotenvy::Error::LineParse(ta, ia), dotenvy::Error::LineParse(tb, ib)) => {
            ta == tb && ia == ib
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<BTreeMap<String, String>, EnvFileError> {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(".env.agent"), text).expect("write");
        read_env_file(dir.path(), ".env.agent")
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn parses_the_usual_forms() {
        #[rustfmt::skip]
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("", &[]),
            ("# only a comment\n\n", &[]),
            ("KEY=value", &[("KEY", "value")]),
            ("\u{feff}KEY=value\n", &[("KEY", "value")]),
            ("export API_KEY=sk-123\n", &[("API_KEY", "sk-123")]),
            ("A='single $NOT'\nB=\"dq\\nline\"\n", &[("A", "single $NOT"), ("B", "dq\nline")]),
            ("A=x # trailing comment\n", &[("A", "x")]),
            ("A=1\nB=${A}2\n", &[("A", "1"), ("B", "12")]),
            ("A=first\nA=second\n", &[("A", "second")]),
            ("EMPTY=\n", &[("EMPTY", "")]),
            ("M=\"one\ntwo\"\nN=3\n", &[("M", "one\ntwo"), ("N", "3")]),
            ("CRLF=yes\r\nNEXT=ok\r\n", &[("CRLF", "yes"), ("NEXT", "ok")]),
        ];
        for (text, want) in cases {
            let got = read(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(got, map(want), "{text:?}");
        }
    }

    #[test]
    fn parse_errors_name_file_and_line_without_the_secret() {
        #[rustfmt::skip]
        let cases: &[(&str, usize)] = &[
            ("A=1\nB=secret-abc def\n", 2),
            ("1BAD=secret-abc\n", 1),
            ("A=1\n# c\n\nNOEQUALS secret-abc\nC=3\n", 4),
            ("A=1\nB=\"secret-abc\nstill open\n", 2),
            ("A=1\nM=\"ok\nmulti\" junk secret-abc\nN=2\n", 2),
            ("A=1\nM=\"ok\nmulti\"\nX=\"secret-abc\nY=2\n", 4),
            ("A=1\nB='secret-abc", 2),
            ("A=1\nB=secret-abc\\q\n", 2),
            ("A=\"x\"y secret-abc\n", 1),
        ];
        for (text, want_line) in cases {
            let err = read(text).expect_err(text);
            let msg = err.to_string();
            match &err {
                EnvFileError::Parse { line, path, .. } => {
                    assert_eq!(line, want_line, "{text:?}: {msg}");
                    assert!(path.ends_with(".env.agent"));
                }
                other => panic!("{text:?}: {other}"),
            }
            assert!(msg.contains(".env.agent:"), "{msg}");
            assert!(!msg.contains("secret-abc"), "{msg}");
        }
    }

    #[test]
    fn nul_byte_is_refused_with_its_line() {
        let err = read("A=1\nB=x\0y\n").expect_err("nul");
        assert!(matches!(err, EnvFileError::Parse { line: 2, .. }), "{err}");
    }

    #[test]
    fn read_errors_name_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = read_env_file(dir.path(), "missing.env").expect_err("missing");
        assert!(matches!(err, EnvFileError::Read { .. }));
        assert!(err.to_string().contains("missing.env"), "{err}");

        std::fs::write(dir.path().join("bin.env"), [b'A', b'=', 0xff, b'\n']).expect("write");
        let err = read_env_file(dir.path(), "bin.env").expect_err("not utf-8");
        assert!(err.to_string().contains("bin.env"), "{err}");
    }

    #[test]
    fn does_not_touch_the_process_environment() {
        let key = "CORRAL_ENV_FILE_TEST_ONLY_KEY";
        let got = read(&format!("{key}=1\n")).expect("parse");
        assert_eq!(got.get(key).map(String::as_str), Some("1"));
        assert!(std::env::var_os(key).is_none());
    }
}
