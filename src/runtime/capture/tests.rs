use super::*;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use tokio::io::ReadBuf;

const RUN: RunId = RunId(7);

fn clock() -> i64 {
    42
}

/// A hub with run 7 open on a log file in `dir`; returns the file's path.
fn hub_in(dir: &Path, ring_lines: usize, filter: Option<LineFilter>) -> (LogHub, PathBuf) {
    let mut hub = LogHub::new(ring_lines, dir.to_path_buf());
    if let Some(f) = filter {
        hub = hub.with_filter(f);
    }
    let path = dir.join("7.log");
    hub.open(RUN, &path).expect("open log");
    (hub, path)
}

fn ring_texts(hub: &LogHub) -> Vec<String> {
    hub.tail(RUN, usize::MAX)
        .into_iter()
        .map(|l| l.text)
        .collect()
}

fn received(rx: &mut broadcast::Receiver<Event>) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let Event::Log(lines) = ev {
            out.extend(lines.into_iter().map(|l| l.text));
        }
    }
    out
}

#[tokio::test]
async fn the_pump_splits_redraws_cuts_and_numbers_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, path) = hub_in(dir.path(), 100, None);
    let mut long = vec![b'a'; crate::core::lines::MAX_LINE_BYTES + 10];
    long.extend_from_slice(b"\n10%\r20%\r30%\r\nbad \xff\npartial");
    hub.clone()
        .pump(RUN, Stream::Stdout, &long[..], clock)
        .await;
    let lines = hub.tail(RUN, 10);
    let kept = "a".repeat(crate::core::lines::MAX_LINE_BYTES);
    assert_eq!(
        lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        vec![
            format!("{kept} … [cut 10 bytes]").as_str(),
            "30%",
            "bad \u{fffd}",
            "partial"
        ]
    );
    assert_eq!(
        lines.iter().map(|l| l.seq).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert!(lines.iter().all(|l| l.at_ms == 42 && l.run == RUN));
    let file = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        file,
        format!("O {kept} … [cut 10 bytes]\nO 30%\nO bad \u{fffd}\nO partial\n")
    );
    assert_eq!(hub.bytes(RUN), long.len() as u64);
}

#[tokio::test]
async fn the_filter_changes_what_the_ring_the_file_and_subscribers_see() {
    let dir = tempfile::tempdir().unwrap();
    let filter: LineFilter = Arc::new(|text: &str| {
        if text.contains("hunter2") {
            Cow::Owned(text.replace("hunter2", "[redacted]"))
        } else {
            Cow::Borrowed(text)
        }
    });
    let (hub, path) = hub_in(dir.path(), 100, Some(filter));
    let mut rx = hub.subscribe();
    let out = b"password hunter2\nplain\nprogress hunter\rhunter2 again\n";
    hub.clone().pump(RUN, Stream::Stdout, &out[..], clock).await;
    hub.clone()
        .pump(RUN, Stream::Stderr, &b"err hunter2"[..], clock)
        .await;
    hub.note(RUN, "corral: sent to stdin: hunter2");
    let want = [
        "password [redacted]",
        "plain",
        "[redacted] again",
        "err [redacted]",
        "corral: sent to stdin: [redacted]",
    ];
    assert_eq!(ring_texts(&hub), want);
    assert_eq!(received(&mut rx), want);
    let file = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        file,
        "O password [redacted]\nO plain\nO [redacted] again\nE err [redacted]\n\
         E corral: sent to stdin: [redacted]\n"
    );
}

#[tokio::test]
async fn the_filter_sees_a_cut_line_without_the_marker() {
    let dir = tempfile::tempdir().unwrap();
    let filter: LineFilter = Arc::new(|text: &str| Cow::Owned(text.to_uppercase()));
    let (hub, _) = hub_in(dir.path(), 100, Some(filter));
    let mut out = vec![b'x'; crate::core::lines::MAX_LINE_BYTES + 3];
    out.push(b'\n');
    hub.clone().pump(RUN, Stream::Stdout, &out[..], clock).await;
    let text = &ring_texts(&hub)[0];
    assert!(text.starts_with("XXX"));
    assert!(
        text.ends_with("X … [cut 3 bytes]"),
        "{}",
        &text[text.len() - 30..]
    );
}

#[tokio::test]
async fn a_secret_across_the_cut_keeps_none_of_its_characters() {
    let redactor = Arc::new(crate::core::redact::Redactor::new(&[]).unwrap());
    let filter: LineFilter = Arc::new(move |text: &str| redactor.redact(text));
    let max = crate::core::lines::MAX_LINE_BYTES;
    let key = format!("sk-ant-api03-{}", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6");
    // The cut falls after 1 to 12 characters of the key: none of them may show.
    for before in [1, 8, 12] {
        let dir = tempfile::tempdir().unwrap();
        let (hub, path) = hub_in(dir.path(), 100, Some(filter.clone()));
        let mut line = "word ".repeat(max / 5 + 1);
        line.truncate(max - before - 1);
        line.push(' ');
        line.push_str(&key);
        line.push_str(" and the rest\n");
        hub.clone()
            .pump(RUN, Stream::Stdout, line.as_bytes(), clock)
            .await;
        let shown = &ring_texts(&hub)[0];
        let file = std::fs::read_to_string(&path).unwrap();
        for text in [shown.as_str(), file.as_str()] {
            let (kept, marker) = text.trim_end().rsplit_once(" … ").unwrap();
            let tail = &kept[kept.len() - 40..];
            assert!(
                !tail.contains("sk-") && !tail.ends_with(&key[..before]),
                "{tail}"
            );
            assert!(marker.starts_with("[cut "), "{marker}");
        }
    }
}

#[tokio::test]
async fn the_ring_keeps_the_newest_lines_and_the_file_keeps_all() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, path) = hub_in(dir.path(), 10, None);
    let out: String = (0..30).map(|i| format!("line {i}\n")).collect();
    hub.clone()
        .pump(RUN, Stream::Stdout, out.as_bytes(), clock)
        .await;
    let lines = hub.tail(RUN, 100);
    assert_eq!(lines.len(), 10);
    for (line, i) in lines.iter().zip(20..) {
        assert_eq!(
            (line.seq, line.text.as_str()),
            (i, format!("line {i}").as_str())
        );
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 30);
}

/// An agent that floods without a pause: every read finds a line ready, so the pump never
/// sees the pipe empty (where it would flush anyway).
struct Flood {
    stop: Arc<AtomicBool>,
    lines: Arc<AtomicU64>,
}

impl AsyncRead for Flood {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.stop.load(Ordering::SeqCst) {
            return Poll::Ready(Ok(()));
        }
        // Paced so the test writes little: about 10 bytes a millisecond fill the 64 KiB
        // buffer only after some 6 s, far later than the flush each second.
        std::thread::sleep(Duration::from_millis(1));
        let n = self.lines.fetch_add(1, Ordering::SeqCst);
        buf.put_slice(format!("line {n}\n").as_bytes());
        Poll::Ready(Ok(()))
    }
}

/// Ends the flood however the test leaves, so the runtime's worker can stop.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn a_flood_reaches_the_file_every_second() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, path) = hub_in(dir.path(), 100, None);
    let stop = Arc::new(AtomicBool::new(false));
    let lines = Arc::new(AtomicU64::new(0));
    let flood = Flood {
        stop: stop.clone(),
        lines: lines.clone(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    // Declared after the runtime so it is dropped first: a failed assert must not leave
    // the runtime waiting on a flood that never ends.
    let stopper = StopOnDrop(stop);
    let pump = rt.spawn(hub.clone().pump(RUN, Stream::Stdout, flood, clock));
    // Well under the ~6 s the buffer would take to fill and be written by itself.
    let deadline = Instant::now() + Duration::from_secs(4);
    loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.lines().count() > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "nothing flushed within 4 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!pump.is_finished(), "the flood is still going");
    drop(stopper);
    rt.block_on(pump).unwrap();
    let total = lines.load(Ordering::SeqCst) as usize;
    assert_eq!(
        std::fs::read_to_string(&path).unwrap().lines().count(),
        total
    );
}

#[tokio::test]
async fn usage_is_read_from_whole_agent_lines_after_the_filter() {
    let dir = tempfile::tempdir().unwrap();
    // The filter sees the report first: what it changes is what the scanner reads.
    let filter: LineFilter = Arc::new(|text: &str| Cow::Owned(text.replace("0.5", "0.25")));
    let (hub, _) = hub_in(dir.path(), 100, Some(filter));
    assert_eq!(hub.usage(RUN), None);
    let report = b"corral-usage: {\"output_tokens\":7,\"cost_usd\":0.5}\n";
    hub.clone()
        .pump(RUN, Stream::Stdout, &report[..], clock)
        .await;
    let want = Usage {
        output_tokens: 7,
        cost_micros: Some(250_000),
        ..Usage::default()
    };
    assert_eq!(hub.usage(RUN), Some(want));
    // corral's own notes and cut lines are not the agent's reports.
    hub.note(RUN, "corral-usage: {\"output_tokens\":1}");
    let mut long = b"corral-usage: {\"output_tokens\":2}".to_vec();
    long.resize(crate::core::lines::MAX_LINE_BYTES + 1, b' ');
    long.push(b'\n');
    hub.clone()
        .pump(RUN, Stream::Stderr, &long[..], clock)
        .await;
    assert_eq!(hub.usage(RUN), Some(want));
    assert_eq!(hub.usage(RunId(8)), None, "a run not in memory");
}

#[tokio::test]
async fn steps_are_built_from_the_redacted_lines_as_they_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let filter: LineFilter =
        Arc::new(|text: &str| Cow::Owned(text.replace("hunter2", "[redacted]")));
    let (hub, path) = hub_in(dir.path(), 100, Some(filter));
    assert_eq!(hub.step_state(RUN), StepState::Unknown);
    let stream = concat!(
        "{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s1\",\"model\":\"m\"}\n",
        "{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"Bash\",\"input\":{\"command\":\"echo hunter2\"}}]}}\n",
        "not an event {\n",
    );
    hub.clone()
        .pump(RUN, Stream::Stdout, stream.as_bytes(), clock)
        .await;
    let steps = hub.steps(RUN);
    assert_eq!(steps.len(), 3, "{steps:#?}");
    match &steps[1].kind {
        crate::core::steps::StepKind::Call(call) => {
            assert_eq!(call.summary, "echo [redacted]");
            assert_eq!(steps[1].seq, 1);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        &steps[2].kind,
        crate::core::steps::StepKind::Raw { text, .. } if text == "not an event {"
    ));
    assert_eq!(
        hub.step_state(RUN),
        StepState::Working {
            activity: "Bash echo [redacted]".into()
        }
    );
    // corral's own notes are no steps; the file keeps every raw line.
    hub.note(RUN, "{\"type\":\"result\",\"subtype\":\"success\"}");
    assert_eq!(hub.steps(RUN).len(), 3);
    hub.close(RUN);
    let file = std::fs::read_to_string(path).unwrap();
    assert_eq!(file.lines().count(), 4);
    assert!(hub.steps(RunId(8)).is_empty(), "a run not in memory");
}
