use serde::{Deserialize, Serialize};

/// Tokens and money an agent reported spending. Costs are kept in millionths of a US dollar
/// so sums are exact and the type stays `Eq`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Prompt tokens served from the provider's cache.
    pub cache_read_tokens: u64,
    /// Prompt tokens written to the provider's cache.
    pub cache_write_tokens: u64,
    /// `None` when the agent reported tokens but no price (Codex, for one).
    pub cost_micros: Option<u64>,
}

impl Usage {
    /// Adds `other` to `self`; the cost stays `None` only if neither side has one.
    pub fn add(&mut self, other: &Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_read_tokens += other.cache_read_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
        self.cost_micros = match (self.cost_micros, other.cost_micros) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
    }

    /// Every token counted, cached or not.
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens
    }

    /// Nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.total_tokens() == 0 && self.cost_micros.is_none()
    }

    /// Dollars as shown on screen: `$0.0312` under a dollar, `$12.34` above.
    pub fn format_usd(micros: u64) -> String {
        if micros < 1_000_000 {
            format!("${:.4}", micros as f64 / 1e6)
        } else {
            format!("${:.2}", micros as f64 / 1e6)
        }
    }
}
