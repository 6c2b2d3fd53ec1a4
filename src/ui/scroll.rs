//! A scroll offset for content taller than its box (the detail view, the help overlay).
//!
//! Keys move it, but only the renderer knows the box's height: each draw records how far the
//! offset may go and how tall a page is, and the next key uses that.

use super::keymap::Action;
use std::cell::Cell;

/// How far down some content is scrolled, in rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scroll {
    offset: u16,
    /// The largest useful offset, as of the last draw (unknown before it: no limit).
    max: Cell<u16>,
    /// Rows shown at once, as of the last draw.
    page: Cell<u16>,
}

impl Default for Scroll {
    fn default() -> Self {
        Scroll {
            offset: 0,
            max: Cell::new(u16::MAX),
            page: Cell::new(10),
        }
    }
}

impl Scroll {
    /// The first row to show.
    pub fn offset(&self) -> u16 {
        self.offset.min(self.max.get())
    }

    /// Called by the renderer: `rows` of content in a box `height` rows tall. Returns the
    /// first row to show.
    pub fn fit(&self, rows: usize, height: u16) -> u16 {
        let rows = u16::try_from(rows).unwrap_or(u16::MAX);
        self.max.set(rows.saturating_sub(height));
        self.page.set(height.saturating_sub(1).max(1));
        self.offset()
    }

    /// True if there is more than fits (as of the last draw).
    pub fn scrolls(&self) -> bool {
        self.max.get() > 0
    }

    /// Scrolls to `row` (clamped as of the last draw).
    pub fn set_offset(&mut self, row: u16) {
        self.offset = row;
        self.offset = self.offset();
    }

    /// Applies a movement key; false if `action` is not one.
    pub fn apply(&mut self, action: Action) -> bool {
        let (page, at) = (self.page.get(), self.offset());
        self.offset = match action {
            Action::Down => at.saturating_add(1),
            Action::Up => at.saturating_sub(1),
            Action::PageDown => at.saturating_add(page),
            Action::PageUp => at.saturating_sub(page),
            Action::Top => 0,
            Action::Bottom => u16::MAX,
            _ => return false,
        };
        self.offset = self.offset();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_within_what_the_last_draw_allowed() {
        let mut s = Scroll::default();
        assert_eq!(s.fit(30, 10), 0);
        s.apply(Action::Bottom);
        assert_eq!(s.offset(), 20);
        s.apply(Action::Down);
        assert_eq!(s.offset(), 20, "stops at the end");
        s.apply(Action::PageUp);
        assert_eq!(s.offset(), 11);
        assert_eq!(s.fit(15, 10), 5, "a shorter text clamps the offset");
        assert!(!s.apply(Action::Quit));
    }
}
