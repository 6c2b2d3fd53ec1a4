use super::*;

/// Feeds `chunks` to a splitter keeping `max` bytes a line, then ends the stream; each line as
/// it would be shown (text, then the cut marker).
fn split(max: usize, chunks: &[&[u8]]) -> Vec<String> {
    let mut s = LineSplitter::new(max);
    let mut lines = Vec::new();
    let mut out = |l: Line<'_>| {
        let mut text = l.text().into_owned();
        if l.cut > 0 {
            text.push_str(&cut_marker(l.cut));
        }
        lines.push(text);
    };
    for c in chunks {
        s.feed(c, &mut out);
    }
    s.finish(&mut out);
    lines
}

/// The same bytes give the same lines however the reads cut them: whole, one byte at a time,
/// and in two pieces split at every position.
fn check(max: usize, input: &[u8], want: &[&str]) {
    let label = String::from_utf8_lossy(input);
    assert_eq!(split(max, &[input]), want, "one chunk: {label:?}");
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(split(max, &bytes), want, "byte by byte: {label:?}");
    for at in 0..=input.len() {
        let (a, b) = input.split_at(at);
        assert_eq!(split(max, &[a, b]), want, "split at {at}: {label:?}");
    }
}

#[test]
fn lines_are_split_on_newlines_and_the_last_partial_line_is_kept() {
    let cases: &[(&[u8], &[&str])] = &[
        (b"", &[]),
        (b"one\n", &["one"]),
        (b"one\ntwo\n", &["one", "two"]),
        (b"one\ntwo", &["one", "two"]),
        (b"\n\n", &["", ""]),
        (b"a\n\nb\n", &["a", "", "b"]),
        (b"tab\there\n", &["tab\there"]),
        (b"\x1b[31mred\x1b[0m\n", &["\x1b[31mred\x1b[0m"]),
    ];
    for (input, want) in cases {
        check(64, input, want);
    }
}

#[test]
fn carriage_returns_keep_the_last_state_of_a_progress_line() {
    let cases: &[(&[u8], &[&str])] = &[
        (b"10%\r20%\r30%\n", &["30%"]),
        (b"line\r\n", &["line"]),
        (b"a\r\nb\r\n", &["a", "b"]),
        (b"done\r", &["done"]),
        (b"done\r\r", &["done"]),
        (b"old\r\r\n", &["old"]),
        (b"12345\rab\n", &["ab"]),
        (b"10%\r20%", &["20%"]),
        (b"\r\n", &[""]),
        (b"\rtext\n", &["text"]),
        (b"x\n\r", &["x"]),
        (b"a\rb\r\nc\n", &["b", "c"]),
    ];
    for (input, want) in cases {
        check(64, input, want);
    }
}

#[test]
fn invalid_utf8_is_replaced_and_split_characters_are_joined_again() {
    let cases: &[(&[u8], &[&str])] = &[
        ("héllo wörld ✓ 🦀\n".as_bytes(), &["héllo wörld ✓ 🦀"]),
        (b"bad \xff byte\n", &["bad \u{fffd} byte"]),
        (b"cut \xe2\x9c\n", &["cut \u{fffd}"]),
        (b"\xc3\xa9\r\xc3\xa8\n", &["è"]),
    ];
    for (input, want) in cases {
        check(64, input, want);
    }
}

#[test]
fn long_lines_keep_their_start_and_say_how_much_was_cut() {
    let cases: &[(usize, &[u8], &[&str])] = &[
        (8, b"12345678\n", &["12345678"]),
        (8, b"123456789\n", &["12345678 … [cut 1 bytes]"]),
        (
            8,
            b"1234567890abc\nok\n",
            &["12345678 … [cut 5 bytes]", "ok"],
        ),
        (8, b"1234567890", &["12345678 … [cut 2 bytes]"]),
        (8, b"1234567890\r\n", &["12345678 … [cut 2 bytes]"]),
        // A redraw after a cut starts the line over, count included.
        (8, b"1234567890\rab\n", &["ab"]),
        (8, b"ab\r1234567890\n", &["12345678 … [cut 2 bytes]"]),
        // The character the cut fell into goes whole: its first bytes count as cut.
        (8, "1234567é\n".as_bytes(), &["1234567 … [cut 2 bytes]"]),
        (8, "12345🦀xx\n".as_bytes(), &["12345 … [cut 6 bytes]"]),
        (8, "123456🦀\n".as_bytes(), &["123456 … [cut 4 bytes]"]),
        // Exactly full with a whole character: nothing cut, nothing dropped.
        (8, "123456é\n".as_bytes(), &["123456é"]),
        (8, "123456é!\n".as_bytes(), &["123456é … [cut 1 bytes]"]),
        // Invalid bytes before the cut stay (as replacement characters).
        (
            8,
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\n",
            &["\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd} … [cut 1 bytes]"],
        ),
    ];
    for (max, input, want) in cases {
        check(*max, input, want);
    }
}

#[test]
fn the_default_limit_is_64_kib_and_memory_stays_bounded() {
    let mut s = LineSplitter::default();
    let mut got = Vec::new();
    let mut out = |l: Line<'_>| got.push((l.bytes.len(), l.cut));
    let chunk = vec![b'x'; 10_000];
    for _ in 0..100 {
        s.feed(&chunk, &mut out);
        assert!(s.buf.len() <= MAX_LINE_BYTES + CUT_LOOKAHEAD);
    }
    s.feed(b"\nshort\n", &mut out);
    assert_eq!(
        got,
        vec![
            (MAX_LINE_BYTES, (1_000_000 - MAX_LINE_BYTES) as u64),
            (5, 0)
        ]
    );
}

#[test]
fn complete_utf8_prefix_drops_only_an_unfinished_last_character() {
    let cases: &[(&[u8], usize)] = &[
        (b"", 0),
        (b"abc", 3),
        (b"ab\xc3", 2),
        (b"ab\xc3\xa9", 4),
        (b"a\xf0\x9f\xa6", 1),
        (b"a\xf0\x9f\xa6\x80", 5),
        (b"a\x80\x80\x80\x80", 5),
        (b"a\xff", 2),
    ];
    for (input, want) in cases {
        assert_eq!(complete_utf8_prefix(input), *want, "{input:?}");
    }
}

#[test]
fn escape_sequences_are_measured_whole() {
    let rows: [(&[u8], usize); 12] = [
        (b"\x1b[1;31mrest", 7),
        (b"\x1b[?25lrest", 6),
        (b"\x1b]0;title\x07rest", 10),
        (b"\x1b]8;;http://x\x1b\\rest", 15),
        (b"\x1b]0;no end", 10),
        (b"\x1b]0;t\x1b[1m", 5),
        (b"\x1b(Brest", 3),
        (b"\x1bcrest", 2),
        (b"\x1b", 1),
        (b"\x1b[12", 4),
        (b"\x1b[1\xc3\xa9", 3),
        ("\x1b\u{e9}".as_bytes(), 1),
    ];
    for (bytes, want) in rows {
        assert_eq!(
            escape_len(bytes),
            want,
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
    }
}
