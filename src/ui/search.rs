//! Search in the Log pane: a plain, case-insensitive query matched against each line's text
//! with its colour codes stripped, the same text the pane draws, so highlights line up.
//!
//! Counting every match means reading every held line once; that happens when the query is
//! set or the run changes, and after that one line at a time as lines arrive and leave.

use crate::api::LogLine;
use ratatui::style::Style;
use ratatui::text::Span;
use regex::{Regex, RegexBuilder};
use std::collections::VecDeque;
use std::ops::Range;

/// A search over the lines the Log pane holds, with a current match.
#[derive(Debug, Clone)]
pub struct Search {
    query: String,
    /// The query escaped into a regex: the regex crate does Unicode case folding and gives
    /// byte ranges in the original text, which a lowercased copy would not.
    re: Regex,
    /// Lines holding at least one match, as (seq, matches in the line), oldest first.
    hits: VecDeque<(u64, usize)>,
    total: usize,
    /// The current match: its line's seq and which match in that line. Some whenever
    /// there is any match.
    current: Option<(u64, usize)>,
}

impl Search {
    /// A search for `query` over `lines`, or None for an empty query (which means no search).
    pub fn new<'a>(query: &str, lines: impl IntoIterator<Item = &'a LogLine>) -> Option<Search> {
        if query.is_empty() {
            return None;
        }
        let re = RegexBuilder::new(&regex::escape(query))
            .case_insensitive(true)
            .build()
            .ok()?;
        let mut search = Search {
            query: query.to_string(),
            re,
            hits: VecDeque::new(),
            total: 0,
            current: None,
        };
        for line in lines {
            search.added(line);
        }
        Some(search)
    }

    /// The text searched for, as typed.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// Matches among all held lines.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The current match as (line seq, index of the match within the line).
    pub fn current(&self) -> Option<(u64, usize)> {
        self.current
    }

    /// Where the current match is among all matches, from 1 (oldest first).
    pub fn position(&self) -> Option<usize> {
        let (seq, k) = self.current?;
        let before: usize = self
            .hits
            .iter()
            .take_while(|(s, _)| *s < seq)
            .map(|(_, n)| n)
            .sum();
        Some(before + k + 1)
    }

    /// Byte ranges of the matches in a line's plain text.
    pub fn ranges(&self, plain: &str) -> Vec<Range<usize>> {
        self.re.find_iter(plain).map(|m| m.range()).collect()
    }

    /// Counts a line that arrived after the search was set.
    pub fn added(&mut self, line: &LogLine) {
        let n = self
            .ranges(&crate::ui::log_view::plain_text(&line.text))
            .len();
        if n > 0 {
            self.hits.push_back((line.seq, n));
            self.total += n;
            // The first match to appear becomes current, so the count reads 1/n, not ?/n.
            self.current.get_or_insert((line.seq, 0));
        }
    }

    /// Forgets the matches of the newest line, `seq`, which is being replaced (an unfinished
    /// line that grew or ended); a current match on it moves to the match before.
    pub fn forget_last(&mut self, seq: u64) {
        if let Some(&(s, n)) = self.hits.back()
            && s == seq
        {
            self.hits.pop_back();
            self.total -= n;
        }
        if self.current.is_some_and(|(s, _)| s == seq) {
            self.current = self.hits.back().map(|(s, n)| (*s, n - 1));
        }
    }

    /// Forgets lines older than `seq`, which the pane no longer holds.
    pub fn dropped_before(&mut self, seq: u64) {
        while let Some(&(s, n)) = self.hits.front() {
            if s >= seq {
                break;
            }
            self.hits.pop_front();
            self.total -= n;
        }
        if self.current.is_some_and(|(s, _)| s < seq) {
            // Lines leave from the oldest end, so the oldest remaining match is the nearest.
            self.current = self.hits.front().map(|(s, _)| (*s, 0));
        }
    }

    /// Makes the last match at or above line `bottom` current (the nearest one reading up
    /// from the bottom of the view), or the first match if none is. Returns its line.
    pub fn nearest(&mut self, bottom: u64) -> Option<u64> {
        let hit = self
            .hits
            .iter()
            .rev()
            .find(|(s, _)| *s <= bottom)
            .map(|(s, n)| (*s, n - 1))
            .or_else(|| self.hits.front().map(|(s, _)| (*s, 0)))?;
        self.current = Some(hit);
        Some(hit.0)
    }

    /// Moves to the next match (`forward`: newer, further down) or the previous one, wrapping
    /// around at either end. Returns the match's line and whether it wrapped.
    pub fn step(&mut self, forward: bool) -> Option<(u64, bool)> {
        let last = self.hits.len().checked_sub(1)?;
        let first = (self.hits[0].0, 0);
        let newest = (self.hits[last].0, self.hits[last].1 - 1);
        let Some((seq, k)) = self.current else {
            let hit = if forward { first } else { newest };
            self.current = Some(hit);
            return Some((hit.0, false));
        };
        let i = self
            .hits
            .binary_search_by_key(&seq, |(s, _)| *s)
            .unwrap_or(0);
        let count = self.hits[i].1;
        let (next, wrapped) = match forward {
            true if k + 1 < count => ((seq, k + 1), false),
            true if i < last => ((self.hits[i + 1].0, 0), false),
            true => (first, true),
            false if k > 0 => ((seq, k - 1), false),
            false if i > 0 => ((self.hits[i - 1].0, self.hits[i - 1].1 - 1), false),
            false => (newest, true),
        };
        self.current = Some(next);
        Some((next.0, wrapped))
    }
}

/// Splits `spans` (whose contents joined are the text `ranges` point into) so each match is
/// its own span, drawn with `hit`, or with `current` for the match at that index.
pub fn highlight(
    spans: Vec<Span<'static>>,
    ranges: &[Range<usize>],
    current: Option<usize>,
    hit: Style,
    current_style: Style,
) -> Vec<Span<'static>> {
    if ranges.is_empty() {
        return spans;
    }
    let mut out = Vec::with_capacity(spans.len() + 2 * ranges.len());
    let mut offset = 0;
    for span in spans {
        let text = span.content.as_ref();
        let (from, to) = (offset, offset + text.len());
        let mut pos = 0;
        for (i, r) in ranges.iter().enumerate() {
            if r.end <= from || r.start >= to {
                continue;
            }
            // A match may cross span boundaries (colour changes mid-word): cut it per span.
            let (a, b) = (r.start.max(from) - from, r.end.min(to) - from);
            if a > pos {
                out.push(Span::styled(text[pos..a].to_string(), span.style));
            }
            let mark = if current == Some(i) {
                current_style
            } else {
                hit
            };
            out.push(Span::styled(text[a..b].to_string(), span.style.patch(mark)));
            pos = b;
        }
        if pos < text.len() {
            out.push(Span::styled(text[pos..].to_string(), span.style));
        }
        offset = to;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{RunId, Stream};
    use ratatui::style::{Color, Modifier};

    fn line(seq: u64, text: &str) -> LogLine {
        LogLine {
            run: RunId(1),
            seq,
            stream: Stream::Stdout,
            at_ms: 0,
            text: text.into(),
        }
    }

    fn held() -> Vec<LogLine> {
        vec![
            line(0, "Error one, error two"),
            line(1, "fine"),
            line(2, "\x1b[31mERR\x1b[0mOR three"),
        ]
    }

    #[test]
    fn counts_ignore_case_and_colour_codes() {
        let s = Search::new("error", &held()).unwrap();
        assert_eq!(s.total(), 3);
        assert_eq!(s.current(), Some((0, 0)));
        assert_eq!(s.position(), Some(1));
        assert!(
            Search::new("", &held()).is_none(),
            "an empty query is no search"
        );
        assert_eq!(
            Search::new("[.*", &held()).unwrap().total(),
            0,
            "not a regex"
        );
    }

    #[test]
    fn steps_wrap_at_both_ends() {
        let mut s = Search::new("error", &held()).unwrap();
        assert_eq!(s.step(true), Some((0, false)));
        assert_eq!(s.position(), Some(2));
        assert_eq!(s.step(true), Some((2, false)));
        assert_eq!(s.step(true), Some((0, true)));
        assert_eq!(s.position(), Some(1));
        assert_eq!(s.step(false), Some((2, true)));
        assert_eq!(s.position(), Some(3));
        assert_eq!(s.nearest(1), Some(0));
        assert_eq!(s.position(), Some(2), "the last match above line 1");
    }

    #[test]
    fn lines_arriving_and_leaving_keep_the_count() {
        let mut s = Search::new("error", &held()).unwrap();
        s.added(&line(3, "another error"));
        assert_eq!(s.total(), 4);
        s.dropped_before(1);
        assert_eq!(
            (s.total(), s.current(), s.position()),
            (2, Some((2, 0)), Some(1))
        );
        let mut none = Search::new("zzz", &held()).unwrap();
        assert_eq!((none.current(), none.step(true)), (None, None));
        none.added(&line(3, "zzz"));
        assert_eq!(none.position(), Some(1));
    }

    #[test]
    fn highlight_cuts_matches_across_spans() {
        let spans = vec![
            Span::styled("ab", Style::default().fg(Color::Red)),
            Span::raw("cdab"),
        ];
        let hit = Style::default().add_modifier(Modifier::REVERSED);
        let cur = Style::default().add_modifier(Modifier::BOLD);
        let out = highlight(spans, &[1..3, 4..6], Some(1), hit, cur);
        let parts: Vec<(&str, Style)> = out.iter().map(|s| (s.content.as_ref(), s.style)).collect();
        assert_eq!(
            parts,
            vec![
                ("a", Style::default().fg(Color::Red)),
                ("b", Style::default().fg(Color::Red).patch(hit)),
                ("c", hit),
                ("d", Style::default()),
                ("ab", cur),
            ]
        );
    }
}
