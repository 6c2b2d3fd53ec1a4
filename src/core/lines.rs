//! Splitting an agent's raw output into display lines, with bounded memory.
//!
//! Pure: bytes in, lines out, whatever size the chunks come in. The runtime feeds it what it
//! reads from a pipe; everything that depends on where a chunk happened to end lives here.

use std::borrow::Cow;

/// Bytes of one line kept; the rest is counted and dropped so one endless line cannot eat memory.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Bytes of a cut line kept after its cut, so a filter can tell a secret that runs across the
/// cut (whose start alone it would not recognise) and hide its start too.
pub const CUT_LOOKAHEAD: usize = 256;

/// One finished line: its kept bytes (not yet decoded) and how many bytes were cut after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// The start of the line, at most the splitter's limit, never ending inside a UTF-8 sequence
    /// when the line was cut.
    pub bytes: &'a [u8],
    /// Bytes dropped from the end of the line (0: the line is whole).
    pub cut: u64,
    /// When the line was cut: up to [`CUT_LOOKAHEAD`] of the bytes right after `bytes`
    /// (counted in `cut`, not to be shown). Empty for a whole line.
    pub after: &'a [u8],
}

impl Line<'_> {
    /// The kept bytes as text; invalid UTF-8 becomes U+FFFD.
    pub fn text(&self) -> Cow<'_, str> {
        // `from_utf8` checks ASCII a word at a time; the lossy decoder goes byte by byte and
        // was half of capture's CPU. Only a line that is not valid UTF-8 pays for it.
        match std::str::from_utf8(self.bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(self.bytes),
        }
    }
}

/// What is appended to a cut line, with the number of bytes dropped.
pub fn cut_marker(cut: u64) -> String {
    format!(" … [cut {cut} bytes]")
}

/// Turns chunks of bytes into lines.
///
/// A `\r` followed by more text starts the line over (a progress bar redrawing itself), so only
/// the last state is kept; `\r\n` and a `\r` at the very end just end the line.
#[derive(Debug)]
pub struct LineSplitter {
    /// The unfinished line, at most `max` + [`CUT_LOOKAHEAD`] bytes.
    buf: Vec<u8>,
    max: usize,
    /// Bytes of the unfinished line dropped after `buf` filled up.
    cut: u64,
    /// The last byte seen was a `\r`: what follows decides between a line end and a redraw.
    after_cr: bool,
}

impl Default for LineSplitter {
    fn default() -> Self {
        LineSplitter::new(MAX_LINE_BYTES)
    }
}

impl LineSplitter {
    /// A splitter keeping at most `max` bytes of each line (at least 4, one UTF-8 character).
    pub fn new(max: usize) -> LineSplitter {
        LineSplitter {
            buf: Vec::new(),
            max: max.max(4),
            cut: 0,
            after_cr: false,
        }
    }

    /// Takes the next chunk and hands `out` every line it finishes, in order.
    pub fn feed(&mut self, chunk: &[u8], out: &mut impl FnMut(Line<'_>)) {
        let mut rest = chunk;
        while let Some(&first) = rest.first() {
            if self.after_cr {
                match first {
                    b'\n' => {
                        self.emit(out);
                        rest = &rest[1..];
                        continue;
                    }
                    b'\r' => {
                        rest = &rest[1..];
                        continue;
                    }
                    // Text after a carriage return redraws the line from its start.
                    _ => {
                        self.buf.clear();
                        self.cut = 0;
                        self.after_cr = false;
                    }
                }
            }
            let Some(i) = memchr::memchr2(b'\n', b'\r', rest) else {
                self.append(rest);
                return;
            };
            let part = &rest[..i];
            if rest[i] == b'\n' {
                if self.buf.is_empty() && self.cut == 0 && part.len() <= self.max {
                    // The common case: a whole line inside one chunk, handed out without a copy.
                    out(Line {
                        bytes: part,
                        cut: 0,
                        after: &[],
                    });
                } else {
                    self.append(part);
                    self.emit(out);
                }
            } else {
                self.append(part);
                self.after_cr = true;
            }
            rest = &rest[i + 1..];
        }
    }

    /// The unfinished line so far (without a character cut in half at its end), if it holds
    /// anything: what an agent waiting for input has printed of its question.
    pub fn pending(&self) -> Option<Line<'_>> {
        // Past `max` the buffer holds the look-ahead of a cut line, which is never shown.
        let shown = &self.buf[..self.buf.len().min(self.max)];
        let keep = complete_utf8_prefix(shown);
        let (cut, after) = if self.buf.len() > self.max {
            (self.cut + (self.buf.len() - keep) as u64, &self.buf[keep..])
        } else {
            (self.cut, &[][..])
        };
        (keep > 0).then(|| Line {
            bytes: &self.buf[..keep],
            cut,
            after,
        })
    }

    /// The stream has ended: hands out the unfinished last line, if it holds anything.
    pub fn finish(&mut self, out: &mut impl FnMut(Line<'_>)) {
        if !self.buf.is_empty() || self.cut > 0 {
            self.emit(out);
        }
        self.after_cr = false;
    }

    fn append(&mut self, part: &[u8]) {
        let room = self.max + CUT_LOOKAHEAD - self.buf.len();
        if part.len() <= room {
            self.buf.extend_from_slice(part);
        } else {
            self.buf.extend_from_slice(&part[..room]);
            self.cut += (part.len() - room) as u64;
        }
    }

    fn emit(&mut self, out: &mut impl FnMut(Line<'_>)) {
        if self.buf.len() <= self.max && self.cut == 0 {
            out(Line {
                bytes: &self.buf,
                cut: 0,
                after: &[],
            });
        } else {
            // The cut may have split a character: drop its first bytes too rather than show
            // a replacement character that the agent never printed.
            let keep = complete_utf8_prefix(&self.buf[..self.max]);
            out(Line {
                bytes: &self.buf[..keep],
                cut: self.cut + (self.buf.len() - keep) as u64,
                after: &self.buf[keep..],
            });
        }
        self.buf.clear();
        self.cut = 0;
        self.after_cr = false;
    }
}

/// Length of `bytes` without a UTF-8 sequence left unfinished at its end.
fn complete_utf8_prefix(bytes: &[u8]) -> usize {
    let len = bytes.len();
    // A sequence is at most 4 bytes: look back over up to 3 continuation bytes for its lead.
    for back in 1..=len.min(4) {
        let b = bytes[len - back];
        if b & 0xC0 == 0x80 {
            continue;
        }
        let need = match b {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if need > back { len - back } else { len };
    }
    len
}

/// `text` without any SGR colour code (`ESC [ digits and ; m`), trimmed at both ends. Other
/// escape sequences are kept (and will make JSON fail to parse, which is right).
pub fn strip_sgr(text: &str) -> Cow<'_, str> {
    if memchr::memchr(0x1b, text.as_bytes()).is_none() {
        return Cow::Borrowed(text.trim());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let params = after
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b';')
            .count();
        match after[params..].strip_prefix('m') {
            Some(next) => rest = next,
            None => {
                out.push_str("\x1b[");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out.trim().to_string())
}

/// Length of the escape sequence at the start of `bytes` (which starts with ESC), as a terminal
/// reads it: CSI (`ESC [` parameters and a final byte), strings ended by BEL or `ESC \\` (OSC,
/// DCS, SOS, PM, APC), charset designations (`ESC ( B`) and other two-byte escapes. An
/// unfinished sequence runs to the end; a sequence never ends inside a UTF-8 character.
pub fn escape_len(bytes: &[u8]) -> usize {
    let Some(&kind) = bytes.get(1) else {
        return bytes.len().min(1);
    };
    match kind {
        b'[' => {
            let body = &bytes[2..];
            let params = body
                .iter()
                .take_while(|b| (0x20..=0x3f).contains(*b))
                .count();
            match body.get(params) {
                Some(0x40..=0x7e) => 2 + params + 1,
                // Not a well-formed CSI: it ends where it stopped making sense.
                _ => 2 + params,
            }
        }
        b']' | b'P' | b'X' | b'^' | b'_' => {
            let body = &bytes[2..];
            match memchr::memchr2(0x07, 0x1b, body) {
                Some(i) if body[i] == 0x07 => 2 + i + 1,
                Some(i) if body.get(i + 1) == Some(&b'\\') => 2 + i + 2,
                // Another escape ends the string without a terminator of its own.
                Some(i) => 2 + i,
                None => bytes.len(),
            }
        }
        b'(' | b')' | b'*' | b'+' | b'-' | b'.' | b'/' | b'#' | b'%' | b' ' => match bytes.get(2) {
            Some(b) if b.is_ascii() => 3,
            _ => 2,
        },
        b if b.is_ascii() => 2,
        _ => 1,
    }
}

#[cfg(test)]
#[path = "lines_tests.rs"]
mod tests;
