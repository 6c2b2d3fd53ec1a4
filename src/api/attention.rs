//! What a live run asks of a person, and how a person answers it.

use serde::{Deserialize, Serialize};

/// Something a run waits for a person to give before it can go on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ask {
    /// The agent asks whether it may use a tool (Claude Code's stdio permission prompt).
    Approval {
        /// The agent's id for the request, which the answer must carry.
        request_id: String,
        tool: String,
        /// One line saying what the tool would be called on (`rm -rf target`).
        summary: String,
    },
    /// The agent asked a question (a Claude `AskUserQuestion` call); answered with input.
    Question { question: String },
    /// A guess: a plain-text agent ended its output in an unfinished line and went quiet
    /// with its stdin open, which is how a prompt such as `Continue? [y/n]` looks.
    Guess { line: String },
}

impl Ask {
    /// One line for a list: `allow Bash: rm -rf target?`, `asks: Which db?`, `probably
    /// waiting (a guess): Continue? [y/n]`.
    pub fn describe(&self) -> String {
        match self {
            Ask::Approval { tool, summary, .. } if summary.is_empty() => {
                format!("allow {tool}?")
            }
            Ask::Approval { tool, summary, .. } => format!("allow {tool}: {summary}?"),
            Ask::Question { question } => format!("asks: {question}"),
            Ask::Guess { line } => format!("probably waiting (a guess): {line}"),
        }
    }
}

/// A run waiting for a person: what it asks and since when (ms since the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub ask: Ask,
    pub since_ms: i64,
}

/// A person's answer to a run's [`Ask::Approval`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    Allow,
    /// Allow this request and every later one for the same tool in this run.
    AllowTool,
    Deny {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}
