//! A one-line text prompt: the editor shared by the log search (`/`), input to an agent (`i`)
//! and the Features pane's filter (`F`).
//!
//! The editor only edits; what Enter means is up to whoever opened it (see `app_keys.rs`).

use crate::api::RunId;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::text::Span;

/// What a prompt is for, which decides its title and what Enter does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// A search query for the Log pane.
    Search,
    /// A line for this run's stdin.
    Input(RunId),
    /// Text to match in feature names and categories.
    Filter,
    /// Why this feature's change is rejected (the diff view's reject key).
    Reject(crate::api::FeatureId),
    /// Why this run's permission request is denied (told to the agent).
    Deny(RunId),
}

/// An open prompt: its purpose and the text typed so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub editor: LineEditor,
}

impl Prompt {
    /// An empty prompt of this kind.
    pub fn new(kind: PromptKind) -> Prompt {
        Prompt {
            kind,
            editor: LineEditor::default(),
        }
    }
}

/// What a key did to the editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// Still typing (the key edited the text, moved the cursor, or was ignored).
    Editing,
    /// Enter: take the text.
    Submit,
    /// Esc or ctrl-c: drop the text.
    Cancel,
}

/// A single line of text with a cursor. The cursor counts characters, not bytes, so it can
/// never land inside a multi-byte character.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEditor {
    chars: Vec<char>,
    cursor: usize,
}

impl LineEditor {
    /// The text typed so far.
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// The cursor's position in characters from the start.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Inserts a character at the cursor. Control characters are refused: they would reach
    /// an agent's stdin or the screen as raw bytes.
    pub fn insert(&mut self, c: char) {
        if !c.is_control() {
            self.chars.insert(self.cursor, c);
            self.cursor += 1;
        }
    }

    /// Applies one key press.
    pub fn key(&mut self, key: &KeyEvent) -> Edit {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Enter => return Edit::Submit,
            KeyCode::Esc => return Edit::Cancel,
            // Ctrl-c cancels as in a shell, rather than quitting from inside a prompt.
            KeyCode::Char('c') if ctrl => return Edit::Cancel,
            KeyCode::Char('u') if ctrl => {
                self.chars.clear();
                self.cursor = 0;
            }
            // Other ctrl and alt chords are not text; shift is, since it is already in the char.
            KeyCode::Char(c) if (key.modifiers - KeyModifiers::SHIFT).is_empty() => self.insert(c),
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                self.chars.remove(self.cursor);
            }
            KeyCode::Delete if self.cursor < self.chars.len() => {
                self.chars.remove(self.cursor);
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.chars.len()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.chars.len(),
            _ => {}
        }
        Edit::Editing
    }

    /// The part of the text to show in `width` cells, and the cell the cursor is on.
    ///
    /// The text scrolls only as far as needed to keep the cursor's cell inside the box, so a
    /// short text never moves and a long one shows its end while typing at the end.
    pub fn window(&self, width: usize) -> (String, usize) {
        let width = width.max(1);
        let w = |cs: &[char]| cs.iter().map(|c| char_width(*c)).sum::<usize>();
        let mut start = 0;
        // One cell more than the text before the cursor: the cursor's own.
        while start < self.cursor && w(&self.chars[start..self.cursor]) + 1 > width {
            start += 1;
        }
        let mut used = 0;
        let shown: String = self.chars[start..]
            .iter()
            .take_while(|c| {
                used += char_width(**c);
                used <= width
            })
            .collect();
        (shown, w(&self.chars[start..self.cursor]))
    }
}

/// Cells a character takes on screen, as ratatui measures it.
fn char_width(c: char) -> usize {
    let mut buf = [0; 4];
    Span::raw(&*c.encode_utf8(&mut buf)).width()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(ed: &mut LineEditor, code: KeyCode) -> Edit {
        ed.key(&KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn typed(s: &str) -> LineEditor {
        let mut ed = LineEditor::default();
        for c in s.chars() {
            press(&mut ed, KeyCode::Char(c));
        }
        ed
    }

    #[test]
    fn typing_inserts_at_the_cursor_and_keys_move_it() {
        let mut ed = typed("helo");
        press(&mut ed, KeyCode::Left);
        press(&mut ed, KeyCode::Char('l'));
        assert_eq!((ed.text().as_str(), ed.cursor()), ("hello", 4));
        press(&mut ed, KeyCode::Home);
        press(&mut ed, KeyCode::Left);
        assert_eq!(ed.cursor(), 0, "left stops at the start");
        press(&mut ed, KeyCode::Char('>'));
        press(&mut ed, KeyCode::End);
        press(&mut ed, KeyCode::Right);
        assert_eq!((ed.text().as_str(), ed.cursor()), (">hello", 6));
    }

    #[test]
    fn backspace_delete_and_ctrl_u_remove_text() {
        let mut ed = typed("abc");
        press(&mut ed, KeyCode::Backspace);
        assert_eq!(ed.text(), "ab");
        press(&mut ed, KeyCode::Home);
        press(&mut ed, KeyCode::Backspace);
        assert_eq!(ed.text(), "ab", "nothing before the cursor to remove");
        press(&mut ed, KeyCode::Delete);
        assert_eq!((ed.text().as_str(), ed.cursor()), ("b", 0));
        ed.key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!((ed.text().as_str(), ed.cursor()), ("", 0));
    }

    #[test]
    fn enter_submits_esc_and_ctrl_c_cancel_and_chords_are_not_text() {
        let mut ed = typed("q");
        assert_eq!(ed.text(), "q", "q is just a letter here");
        let shift_q = KeyEvent::new(KeyCode::Char('Q'), KeyModifiers::SHIFT);
        assert_eq!(ed.key(&shift_q), Edit::Editing);
        let alt_x = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::ALT);
        assert_eq!(ed.key(&alt_x), Edit::Editing);
        assert_eq!(ed.text(), "qQ");
        assert_eq!(press(&mut ed, KeyCode::Enter), Edit::Submit);
        assert_eq!(press(&mut ed, KeyCode::Esc), Edit::Cancel);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(ed.key(&ctrl_c), Edit::Cancel);
        ed.insert('\u{1b}');
        assert_eq!(ed.text(), "qQ", "control characters are refused");
    }

    #[test]
    fn long_text_scrolls_to_keep_the_cursor_in_the_box() {
        let mut ed = typed("0123456789");
        assert_eq!(ed.window(20), ("0123456789".into(), 10));
        // Five cells: four characters and the cursor's cell after them.
        assert_eq!(ed.window(5), ("6789".into(), 4));
        press(&mut ed, KeyCode::Home);
        assert_eq!(ed.window(5), ("01234".into(), 0));
        for _ in 0..3 {
            press(&mut ed, KeyCode::Right);
        }
        assert_eq!(ed.window(5), ("01234".into(), 3));
    }

    #[test]
    fn wide_characters_count_as_two_cells() {
        let ed = typed("日本語");
        assert_eq!(ed.window(10), ("日本語".into(), 6));
        assert_eq!(ed.window(5), ("本語".into(), 4));
    }
}
