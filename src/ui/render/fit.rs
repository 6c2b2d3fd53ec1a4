//! Column widths for the Agents and Features panes, from what the rows hold: every column is
//! as wide as its widest cell (up to a cap), one column (the name) takes the rest, and the
//! least useful columns are left out before the name would get too narrow. Cells wider than
//! their column are cut with [`super::truncate`], so a cut always shows.

use ratatui::text::Span;

/// The cells a text takes on screen.
pub fn cells(text: &str) -> usize {
    Span::raw(text).width()
}

/// One column, before the pane's width is known.
#[derive(Debug, Clone)]
pub struct Col {
    /// The widest cell, header included.
    pub want: usize,
    /// The most it is given (its cells are cut beyond).
    pub cap: usize,
    /// 0: always shown; otherwise left out when the name needs room, highest first.
    pub drop: u8,
}

impl Col {
    pub fn new(header: &str, widest: usize, cap: usize, drop: u8) -> Col {
        Col {
            want: widest.max(cells(header)),
            cap,
            drop,
        }
    }
}

/// The width of each column in `inner` cells with one space between columns, `None` for a
/// column left out. `flex` is the name's column: it gets every cell the others leave, and
/// columns are dropped (highest `drop` first) while it would get fewer than `flex_min`.
pub fn fit(inner: usize, cols: &[Col], flex: usize, flex_min: usize) -> Vec<Option<usize>> {
    let mut shown: Vec<bool> = vec![true; cols.len()];
    loop {
        let rest = flex_room(inner, cols, &shown, flex);
        let next = (0..cols.len())
            .filter(|&i| shown[i] && i != flex && cols[i].drop > 0)
            .max_by_key(|&i| (cols[i].drop, i));
        match next {
            Some(i) if rest < flex_min => shown[i] = false,
            _ => break,
        }
    }
    let rest = flex_room(inner, cols, &shown, flex);
    (0..cols.len())
        .map(|i| match (shown[i], i == flex) {
            (false, _) => None,
            (true, true) => Some(rest),
            (true, false) => Some(cols[i].want.min(cols[i].cap)),
        })
        .collect()
}

fn flex_room(inner: usize, cols: &[Col], shown: &[bool], flex: usize) -> usize {
    let others: usize = (0..cols.len())
        .filter(|&i| shown[i] && i != flex)
        .map(|i| cols[i].want.min(cols[i].cap) + 1)
        .sum();
    inner.saturating_sub(others)
}

/// `prefix` and as many whole ids of `ids` as fit in `width` cells, then `, …` (`...` in
/// ASCII) for the rest: an id is never cut in half, and a cut list always says so.
pub fn id_list(prefix: &str, ids: &[String], width: usize, ascii: bool) -> String {
    let full = format!("{prefix}{}", ids.join(", "));
    if cells(&full) <= width {
        return full;
    }
    let more = if ascii { "..." } else { "…" };
    let mut shown = 0;
    for n in (0..=ids.len()).rev() {
        let text = format!("{prefix}{}, {more}", ids[..n].join(", "));
        let text = if n == 0 {
            format!("{prefix}{more}")
        } else {
            text
        };
        if cells(&text) <= width {
            shown = n;
            break;
        }
    }
    match shown {
        0 => super::truncate(&format!("{prefix}{more}"), width, ascii),
        n => format!("{prefix}{}, {more}", ids[..n].join(", ")),
    }
}

/// The widths of a table's columns: each column sized to its widest cell (header included)
/// under its `(cap, drop rank)` rule, column `flex` taking the room left and never less than
/// `flex_min` (or its widest cell, if narrower). `None` for a column dropped for want of room.
pub fn table_widths<const N: usize>(
    inner: usize,
    headers: &[&str; N],
    rules: [(usize, u8); N],
    rows: &[[String; N]],
    flex: usize,
    flex_min: usize,
) -> Vec<Option<usize>> {
    let widest = |i: usize| rows.iter().map(|t| cells(&t[i])).max().unwrap_or(0);
    let cols: Vec<Col> = headers
        .iter()
        .zip(rules)
        .enumerate()
        .map(|(i, (h, (cap, drop)))| Col::new(h, widest(i), cap, drop))
        .collect();
    fit(inner, &cols, flex, flex_min.min(widest(flex)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_gets_the_rest_and_optional_columns_go_first() {
        let cols = [
            Col::new("id", 5, 8, 0),
            Col::new("name", 30, usize::MAX, 0),
            Col::new("pid", 7, 7, 2),
            Col::new("role", 7, 7, 1),
        ];
        // 40 cells: 5+1, 7+1, 7+1 leave 18 for the name: too few, pid goes first.
        assert_eq!(fit(40, &cols, 1, 20), [Some(5), Some(26), None, Some(7)]);
        assert_eq!(fit(60, &cols, 1, 20), [Some(5), Some(38), Some(7), Some(7)]);
        assert_eq!(fit(20, &cols, 1, 20), [Some(5), Some(14), None, None]);
    }

    #[test]
    fn id_lists_are_cut_between_ids_with_a_mark() {
        let ids: Vec<String> = ["2", "8", "10"].map(String::from).to_vec();
        assert_eq!(id_list("deps ", &ids, 20, false), "deps 2, 8, 10");
        assert_eq!(id_list("deps ", &ids, 12, false), "deps 2, 8, …");
        assert_eq!(id_list("deps ", &ids, 12, true), "deps 2, ...");
        assert_eq!(id_list("deps ", &ids, 9, false), "deps 2, …");
        assert_eq!(id_list("deps ", &ids, 7, false), "deps …");
        assert_eq!(id_list("deps ", &ids, 4, false), "dep…");
    }
}
