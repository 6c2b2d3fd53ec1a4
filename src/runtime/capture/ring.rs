//! A run's most recent lines in one byte arena: the text of kept lines lies end to end in a
//! short queue of fixed-size blocks, with a small entry per line saying where. A flood then
//! costs no allocation per line (a block is reused once its lines are gone), nothing is ever
//! copied twice, and a ring of 10,000 lines of 100 bytes holds its 1 MB of text plus at most
//! two blocks and 24 bytes a line. (An owned `String` per line cost a heap block and some 80
//! bytes of bookkeeping each, and the allocator's churn.)

use crate::api::{LogLine, RunId, Stream};
use std::collections::VecDeque;

/// Bytes of one block; a longer line gets a block of its own size.
const BLOCK: usize = 64 * 1024;

/// Where one kept line lies, and what it carries besides its text.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The block, counted from the first block the ring ever had.
    block: u64,
    offset: u32,
    len: u32,
    stream: Stream,
    at_ms: i64,
}

/// Up to `max` lines with consecutive seqs, oldest first.
#[derive(Debug)]
pub(super) struct Ring {
    blocks: VecDeque<Vec<u8>>,
    /// The number (as in [`Entry::block`]) of `blocks[0]`.
    first_block: u64,
    /// A block whose lines are all gone, kept to take the next lines without an allocation.
    spare: Option<Vec<u8>>,
    entries: VecDeque<Entry>,
    /// The seq of the oldest kept line (meaningful while the ring holds any).
    first_seq: u64,
    max: usize,
}

/// One kept line, borrowed from the ring.
#[derive(Debug, Clone, Copy)]
pub(super) struct Kept<'a> {
    pub(super) seq: u64,
    pub(super) stream: Stream,
    pub(super) at_ms: i64,
    pub(super) text: &'a str,
}

impl Kept<'_> {
    pub(super) fn to_line(self, run: RunId) -> LogLine {
        LogLine {
            run,
            seq: self.seq,
            stream: self.stream,
            at_ms: self.at_ms,
            text: self.text.to_string(),
        }
    }
}

impl Ring {
    /// An empty ring keeping at most `max` lines (at least 1).
    pub(super) fn new(max: usize) -> Ring {
        Ring {
            blocks: VecDeque::new(),
            first_block: 0,
            spare: None,
            entries: VecDeque::new(),
            first_seq: 0,
            max: max.max(1),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The seq of the oldest kept line, or `next` when none is kept.
    pub(super) fn oldest_seq(&self, next: u64) -> u64 {
        if self.entries.is_empty() {
            next
        } else {
            self.first_seq
        }
    }

    /// Keeps the line `seq` (one more than the newest kept line's, or any seq in an empty
    /// ring) made of `parts` laid end to end; the oldest line goes when the ring is full.
    pub(super) fn push(&mut self, seq: u64, stream: Stream, at_ms: i64, parts: &[&str]) {
        if self.entries.is_empty() {
            self.first_seq = seq;
        }
        if self.entries.len() >= self.max {
            self.entries.pop_front();
            self.first_seq += 1;
            self.drop_unused_blocks();
        }
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let fits = self
            .blocks
            .back()
            .is_some_and(|b| b.capacity() - b.len() >= len);
        if !fits {
            self.new_block(len);
        }
        let block = self.first_block + self.blocks.len() as u64 - 1;
        let Some(bytes) = self.blocks.back_mut() else {
            return;
        };
        let offset = bytes.len() as u32;
        for part in parts {
            bytes.extend_from_slice(part.as_bytes());
        }
        self.entries.push_back(Entry {
            block,
            offset,
            len: len as u32,
            stream,
            at_ms,
        });
    }

    fn new_block(&mut self, len: usize) {
        let block = match self.spare.take() {
            Some(mut b) if b.capacity() >= len => {
                b.clear();
                b
            }
            _ => Vec::with_capacity(len.max(BLOCK)),
        };
        self.blocks.push_back(block);
    }

    /// Blocks before the oldest kept line's hold nothing kept any more.
    fn drop_unused_blocks(&mut self) {
        let Some(front) = self.entries.front() else {
            return;
        };
        while self.first_block < front.block {
            let Some(gone) = self.blocks.pop_front() else {
                break;
            };
            self.first_block += 1;
            // One block of the usual size is kept for reuse; an outsized one is given back.
            if gone.capacity() <= BLOCK && self.spare.is_none() {
                self.spare = Some(gone);
            }
        }
    }

    /// The kept lines, oldest first.
    pub(super) fn iter(&self) -> impl DoubleEndedIterator<Item = Kept<'_>> + ExactSizeIterator {
        self.entries.iter().enumerate().map(|(i, e)| {
            let block = &self.blocks[(e.block - self.first_block) as usize];
            let from = e.offset as usize;
            let bytes = &block[from..from + e.len as usize];
            Kept {
                seq: self.first_seq + i as u64,
                stream: e.stream,
                at_ms: e.at_ms,
                // Only whole `&str`s are pushed, so every entry is valid UTF-8.
                text: std::str::from_utf8(bytes).unwrap_or_default(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(ring: &Ring) -> Vec<(u64, String)> {
        ring.iter().map(|k| (k.seq, k.text.to_string())).collect()
    }

    #[test]
    fn keeps_the_newest_lines_with_their_seqs_and_parts_joined() {
        let mut ring = Ring::new(3);
        assert_eq!(ring.oldest_seq(5), 5);
        for seq in 5..10 {
            ring.push(
                seq,
                Stream::Stdout,
                seq as i64,
                &["line ", &seq.to_string()],
            );
        }
        assert_eq!(
            texts(&ring),
            [
                (7, "line 7".into()),
                (8, "line 8".into()),
                (9, "line 9".into())
            ]
        );
        assert_eq!(ring.oldest_seq(10), 7);
        let last = ring.iter().next_back().unwrap();
        assert_eq!((last.at_ms, last.stream), (9, Stream::Stdout));
    }

    #[test]
    fn a_long_flood_holds_the_kept_text_and_at_most_two_blocks_more() {
        let mut ring = Ring::new(100);
        let line = "y".repeat(1000);
        for seq in 0..100_000 {
            ring.push(seq, Stream::Stderr, 0, &[&line]);
        }
        assert_eq!(ring.len(), 100);
        let held: usize = ring.blocks.iter().map(|b| b.capacity()).sum::<usize>()
            + ring.spare.as_ref().map_or(0, |b| b.capacity());
        assert!(held <= 100 * 1000 + 2 * BLOCK, "{held}");
        assert!(ring.iter().all(|k| k.text == line));
        assert_eq!(ring.iter().next().unwrap().seq, 99_900);
    }

    #[test]
    fn a_line_longer_than_a_block_gets_one_of_its_own_and_gives_it_back() {
        let mut ring = Ring::new(2);
        let long = "z".repeat(3 * BLOCK);
        ring.push(0, Stream::Stdout, 0, &[&long]);
        ring.push(1, Stream::Stdout, 0, &["short"]);
        ring.push(2, Stream::Stdout, 0, &["", "again"]);
        assert_eq!(texts(&ring), [(1, "short".into()), (2, "again".into())]);
        assert!(ring.spare.as_ref().is_none_or(|b| b.capacity() <= BLOCK));
        assert!(ring.blocks.iter().all(|b| b.capacity() <= BLOCK));
    }
}
