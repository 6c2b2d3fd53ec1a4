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

    /// Dollars as shown on screen: cents always, and under a dollar up to four decimals when
    /// they say something (`$0.0312`, `$0.42`, `$0.1234`); `$12.34` above.
    pub fn format_usd(micros: u64) -> String {
        if micros >= 1_000_000 {
            return format!("${:.2}", micros as f64 / 1e6);
        }
        let text = format!("{:.4}", micros as f64 / 1e6);
        let trimmed = text.trim_end_matches('0');
        let decimals = trimmed.len() - trimmed.find('.').map_or(trimmed.len(), |d| d + 1);
        if decimals < 2 {
            format!("${:.2}", micros as f64 / 1e6)
        } else {
            format!("${trimmed}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Usage;

    #[test]
    fn dollars_keep_cents_and_only_meaningful_decimals() {
        let cases = [
            (0, "$0.00"),
            (312, "$0.0003"),
            (31_200, "$0.0312"),
            (420_000, "$0.42"),
            (123_400, "$0.1234"),
            (200_000, "$0.20"),
            (999_999, "$1.00"),
            (1_000_000, "$1.00"),
            (12_345_678, "$12.35"),
        ];
        for (micros, text) in cases {
            assert_eq!(Usage::format_usd(micros), text, "{micros}");
        }
    }
}
