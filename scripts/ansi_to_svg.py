#!/usr/bin/env python3
"""Turn a terminal capture with ANSI SGR escapes into an SVG of a dark terminal window.

Usage: ansi_to_svg.py IN OUT [--cols 120] [--rows 40] [--title TEXT]

IN is what `tmux capture-pane -p -e -N` prints ("-" for stdin); OUT is the SVG to
write ("-" for stdout). Supported: 16 colours, 256 colours (38;5;n), truecolor
(38;2;r;g;b), the same for backgrounds, bold, dim, italic, underline, strikethrough,
reverse, hidden and resets, in ';' or ':' form. Other escapes (cursor moves, OSC
hyperlinks, charset selection) are skipped: a capture has none that matter.

Layout is an exact cell grid: every glyph is placed at x = col * cell width (one
<text> per run of same-styled cells, with an x per glyph), so nothing drifts with
the viewer's font. Box-drawing lines and block elements (─│┌╭┼━═ █▀▄░▒▓ ▁..▇ ▏..▉ and ⏸ ⏹),
which a font would draw with gaps or not at all, are drawn as shapes so borders join
and gauges are solid. East Asian wide characters take two cells, as in tmux.
Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from dataclasses import dataclass, replace

# Cell metrics in px. The ratio is that of common monospace fonts; the glyph
# positions do not depend on it being exact.
FONT_SIZE = 14.0
CELL_W = 8.4
CELL_H = 17.0
BASELINE = 13.0  # from the top of a cell
PAD = 14.0  # around the grid, inside the window
TITLE_H = 30.0  # title bar with the three window buttons
FONT = "'DejaVu Sans Mono', 'SF Mono', Menlo, Consolas, 'Liberation Mono', monospace"

# A dark theme (Tomorrow Night): default background and foreground, then the 16 colours.
DEFAULT_BG = (0x1D, 0x1F, 0x21)
DEFAULT_FG = (0xC5, 0xC8, 0xC6)
WINDOW_BORDER = "#3b3e41"
TITLE_BG = "#26282b"
PALETTE16 = [
    (0x1D, 0x1F, 0x21), (0xCC, 0x66, 0x66), (0xB5, 0xBD, 0x68), (0xF0, 0xC6, 0x74),
    (0x81, 0xA2, 0xBE), (0xB2, 0x94, 0xBB), (0x8A, 0xBE, 0xB7), (0xC5, 0xC8, 0xC6),
    (0x6C, 0x70, 0x73), (0xD5, 0x4E, 0x53), (0xB9, 0xCA, 0x4A), (0xE7, 0xC5, 0x47),
    (0x7A, 0xA6, 0xDA), (0xC3, 0x97, 0xD8), (0x70, 0xC0, 0xB1), (0xEA, 0xEA, 0xEA),
]

Color = tuple[int, int, int] | None  # None: the default colour


def xterm256(n: int) -> tuple[int, int, int]:
    if n < 16:
        return PALETTE16[n]
    if n < 232:
        n -= 16
        steps = (0, 95, 135, 175, 215, 255)
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + 10 * (n - 232)
    return (v, v, v)


@dataclass(frozen=True)
class Style:
    fg: Color = None
    bg: Color = None
    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False
    strike: bool = False
    reverse: bool = False
    hidden: bool = False

    def colors(self) -> tuple[tuple[int, int, int], tuple[int, int, int] | None]:
        """Resolved (foreground, background); background None means the window's."""
        fg, bg = self.fg or DEFAULT_FG, self.bg
        if self.reverse:
            fg, bg = (bg or DEFAULT_BG), fg or DEFAULT_FG
        if self.dim:
            fg = blend(fg, bg or DEFAULT_BG, 0.5)
        if self.hidden:
            fg = bg or DEFAULT_BG
        return fg, bg


def blend(a, b, t: float) -> tuple[int, int, int]:
    return tuple(round(x * (1 - t) + y * t) for x, y in zip(a, b))  # type: ignore[return-value]


def hexc(c) -> str:
    return "#%02x%02x%02x" % c


def extended_color(params: list[list[int]], i: int) -> tuple[Color, int]:
    """Parse 38/48 at params[i], in ';' form (38;5;n) or ':' form (38:5:n, 38:2::r:g:b).

    Returns the colour and how many ';'-separated groups were used."""
    group = params[i]
    if len(group) > 1:  # colon form: everything is in this group
        sub = group[1:]
        if sub and sub[0] == 5 and len(sub) >= 2:
            return xterm256(sub[1] % 256), 1
        if sub and sub[0] == 2:
            rgb = sub[-3:] if len(sub) >= 4 else None
            return (tuple(min(v, 255) for v in rgb) if rgb else None), 1  # type: ignore[return-value]
        return None, 1
    rest = [g[0] if g else 0 for g in params[i + 1 : i + 5]]
    if rest[:1] == [5] and len(rest) >= 2:
        return xterm256(rest[1] % 256), 3
    if rest[:1] == [2] and len(rest) >= 4:
        return tuple(min(v, 255) for v in rest[1:4]), 5  # type: ignore[return-value]
    return None, len(params) - i  # malformed: ignore the rest rather than misread it


def apply_sgr(style: Style, arg: str) -> Style:
    params = [[int(p) if p.isdigit() else 0 for p in g.split(":")] for g in arg.split(";")] if arg else [[0]]
    i = 0
    s = style
    while i < len(params):
        code = params[i][0] if params[i] else 0
        used = 1
        if code == 0:
            s = Style()
        elif code == 1:
            s = replace(s, bold=True)
        elif code == 2:
            s = replace(s, dim=True)
        elif code == 3:
            s = replace(s, italic=True)
        elif code == 4:
            s = replace(s, underline=not (len(params[i]) > 1 and params[i][1] == 0))
        elif code == 7:
            s = replace(s, reverse=True)
        elif code == 8:
            s = replace(s, hidden=True)
        elif code == 9:
            s = replace(s, strike=True)
        elif code == 21:
            s = replace(s, underline=True)
        elif code == 22:
            s = replace(s, bold=False, dim=False)
        elif code == 23:
            s = replace(s, italic=False)
        elif code == 24:
            s = replace(s, underline=False)
        elif code == 27:
            s = replace(s, reverse=False)
        elif code == 28:
            s = replace(s, hidden=False)
        elif code == 29:
            s = replace(s, strike=False)
        elif 30 <= code <= 37:
            s = replace(s, fg=PALETTE16[code - 30])
        elif 40 <= code <= 47:
            s = replace(s, bg=PALETTE16[code - 40])
        elif 90 <= code <= 97:
            s = replace(s, fg=PALETTE16[code - 90 + 8])
        elif 100 <= code <= 107:
            s = replace(s, bg=PALETTE16[code - 100 + 8])
        elif code == 39:
            s = replace(s, fg=None)
        elif code == 49:
            s = replace(s, bg=None)
        elif code in (38, 48):
            color, used = extended_color(params, i)
            s = replace(s, **{"fg" if code == 38 else "bg": color})
        i += used
    return s


# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte escapes, lone ESC.
ESCAPE = re.compile(r"\x1b\[([0-?]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -/]*[0-~]?")


def parse(text: str, cols: int, rows: int) -> list[list[tuple[str, Style] | None]]:
    """The screen as rows of cells (glyph, style); None is the right half of a wide glyph."""
    blank = (" ", Style())
    grid: list[list[tuple[str, Style] | None]] = []
    style = Style()  # tmux only emits changes, so the style carries over line ends
    for line in text.split("\n")[:rows]:
        row: list[tuple[str, Style] | None] = []
        pos = 0
        for m in list(ESCAPE.finditer(line)) + [None]:
            chunk = line[pos : m.start() if m else len(line)]
            for ch in chunk:
                if ch == "\t":
                    row.extend([(" ", style)] * (8 - len(row) % 8))
                elif unicodedata.combining(ch) or ch in "\u200b\u200c\u200d\ufe0f" or ord(ch) < 0x20 or ch == "\x7f":
                    continue  # zero-width, or a control character a capture should not hold
                elif unicodedata.east_asian_width(ch) in ("W", "F"):
                    row.extend([(ch, style), None])
                else:
                    row.append((ch, style))
            if m is None:
                break
            if m.group(2) == "m":
                style = apply_sgr(style, m.group(1))
            pos = m.end()
        row = row[:cols]
        if row and row[-1] is not None and unicodedata.east_asian_width(row[-1][0]) in ("W", "F"):
            row[-1] = blank  # a wide glyph cut in half at the right edge
        row.extend([blank] * (cols - len(row)))
        grid.append(row)
    grid.extend([[blank] * cols for _ in range(rows - len(grid))])
    return grid


# Box drawing: arms (up, down, left, right), each 0 none, 1 light, 2 heavy, 3 double.
# Each family lists its glyphs in the order of BOX_ARMS: ─ │ ┌ ┐ └ ┘ ├ ┤ ┬ ┴ ┼ ╴ ╵ ╶ ╷.
BOX_ARMS = [(0, 0, 1, 1), (1, 1, 0, 0), (0, 1, 0, 1), (0, 1, 1, 0), (1, 0, 0, 1), (1, 0, 1, 0),
            (1, 1, 0, 1), (1, 1, 1, 0), (0, 1, 1, 1), (1, 0, 1, 1), (1, 1, 1, 1),
            (0, 0, 1, 0), (1, 0, 0, 0), (0, 0, 0, 1), (0, 1, 0, 0)]
BOX: dict[str, tuple[int, ...]] = {
    ch: tuple(a * weight for a in arms)
    for glyphs, weight in (("─│┌┐└┘├┤┬┴┼╴╵╶╷", 1), ("━┃┏┓┗┛┣┫┳┻╋╸╹╺╻", 2), ("═║╔╗╚╝╠╣╦╩╬", 3))
    for ch, arms in zip(glyphs, BOX_ARMS)
}
ARCS = {"╭": (0, 1, 0, 1), "╮": (0, 1, 1, 0), "╰": (1, 0, 0, 1), "╯": (1, 0, 1, 0)}
# Block elements and a few symbols fonts often lack: rectangles (x0, y0, x1, y1) as
# fractions of the cell, with an opacity for the shades.
BLOCKS: dict[str, list[tuple[float, float, float, float, float]]] = {
    "█": [(0, 0, 1, 1, 1)], "▀": [(0, 0, 1, 0.5, 1)], "▐": [(0.5, 0, 1, 1, 1)],
    "░": [(0, 0, 1, 1, 0.25)], "▒": [(0, 0, 1, 1, 0.5)], "▓": [(0, 0, 1, 1, 0.75)],
    "▔": [(0, 0, 1, 0.125, 1)], "▕": [(0.875, 0, 1, 1, 1)],
    "⏸": [(0.22, 0.3, 0.42, 0.75, 1), (0.58, 0.3, 0.78, 0.75, 1)], "⏹": [(0.2, 0.3, 0.8, 0.75, 1)],
}
BLOCKS.update({ch: [(0, 1 - (k + 1) / 8, 1, 1, 1)] for k, ch in enumerate("▁▂▃▄▅▆▇")})  # lower eighths
BLOCKS.update({ch: [(0, 0, (7 - k) / 8, 1, 1)] for k, ch in enumerate("▉▊▋▌▍▎▏")})  # left eighths
SHAPES = set(BOX) | set(ARCS) | set(BLOCKS)
LIGHT, HEAVY, GAP = 1.2, 2.4, 1.6  # stroke widths; half the distance between double lines


def num(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return s if s != "-0" else "0"


def draw_shape(ch: str, x: float, y: float, fg: str, strokes: dict, rects: list, cells: int = 1) -> None:
    """Draws a box-drawing or block glyph at the cell whose top left is (x, y).

    Lines go into `strokes`, one path per (colour, width) for the whole picture:
    one stroked path is covered once, so arms that meet or overlap leave neither
    seams nor brighter spots. A block glyph may span `cells` identical cells, drawn
    as one rectangle so that shades have no seams."""
    if ch in BLOCKS:
        for x0, y0, x1, y1, alpha in BLOCKS[ch]:
            # Opaque blocks overlap a hair so anti-aliasing leaves no seam between them.
            grow = 0.3 if alpha == 1 else 0
            w = ((x1 - x0) + cells - 1) * CELL_W if (x0, x1) == (0, 1) else (x1 - x0) * CELL_W
            op = "" if alpha == 1 else f' fill-opacity="{alpha}"'
            rects.append(f'<rect x="{num(x + x0 * CELL_W)}" y="{num(y + y0 * CELL_H)}" width="{num(w + grow)}" '
                         f'height="{num((y1 - y0) * CELL_H + grow)}" fill="{fg}"{op}/>')
        return
    cx, cy = x + CELL_W / 2, y + CELL_H / 2

    def seg(x1: float, y1: float, x2: float, y2: float, width: float) -> None:
        strokes.setdefault((fg, width), []).append(f"M{num(x1)},{num(y1)}L{num(x2)},{num(y2)}")

    if ch in ARCS:
        up, _down, left, _right = ARCS[ch]
        r = min(CELL_W, CELL_H) / 2
        ey, sy = (y, cy - r) if up else (y + CELL_H, cy + r)
        ex, sx = (x, cx - r) if left else (x + CELL_W, cx + r)
        # Vertical arm from the edge to the bend, a quarter curve, horizontal arm to the edge.
        strokes.setdefault((fg, LIGHT), []).append(
            f"M{num(cx)},{num(ey)}L{num(cx)},{num(sy)}Q{num(cx)},{num(cy)} {num(sx)},{num(cy)}L{num(ex)},{num(cy)}")
        return
    arms = BOX[ch]  # up, down, left, right
    # Per arm: unit direction from the centre, the edge point, and its neighbours on
    # the (-1, +1) sides, as indexes into `arms`.
    geometry = [((0, -1), (cx, y), (2, 3)), ((0, 1), (cx, y + CELL_H), (2, 3)),
                ((-1, 0), (x, cy), (0, 1)), ((1, 0), (x + CELL_W, cy), (0, 1))]
    for weight, ((dx, dy), (ex, ey), sides) in zip(arms, geometry):
        if weight in (1, 2):
            width = LIGHT if weight == 1 else HEAVY
            t = -width / 2  # start half a stroke past the centre so joints are square
            seg(cx + dx * t, cy + dy * t, ex, ey, width)
        elif weight == 3:
            # Double: one line each side. A side with a perpendicular arm stops short of
            # the centre (the inner corner); a side without one runs past it to meet the
            # outer line, so corners, tees and crosses join like a font's.
            for side, neighbour in zip((-1, 1), sides):
                px, py = (side * GAP, 0) if dx == 0 else (0, side * GAP)
                t = GAP if arms[neighbour] else -GAP - 0.5
                seg(cx + dx * t + px, cy + dy * t + py, ex + px, ey + py, 1.0)


def xml_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def render(grid, cols: int, rows: int, title: str) -> str:
    width = cols * CELL_W + 2 * PAD
    height = rows * CELL_H + 2 * PAD + TITLE_H
    ox, oy = PAD, TITLE_H + PAD  # origin of the cell grid
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{num(width)}" height="{num(height)}" '
        f'viewBox="0 0 {num(width)} {num(height)}">',
        f'<rect x="0.5" y="0.5" width="{num(width - 1)}" height="{num(height - 1)}" rx="9" '
        f'fill="{hexc(DEFAULT_BG)}" stroke="{WINDOW_BORDER}"/>',
        f'<path d="M1,{num(TITLE_H)} V10 Q1,1 10,1 H{num(width - 10)} Q{num(width - 1)},1 {num(width - 1)},10 '
        f'V{num(TITLE_H)} Z" fill="{TITLE_BG}"/>',
        f'<line x1="1" y1="{num(TITLE_H)}" x2="{num(width - 1)}" y2="{num(TITLE_H)}" stroke="{WINDOW_BORDER}"/>',
        '<circle cx="18" cy="15" r="6" fill="#ff5f57"/><circle cx="38" cy="15" r="6" fill="#febc2e"/>'
        '<circle cx="58" cy="15" r="6" fill="#28c840"/>',
        f'<text x="{num(width / 2)}" y="20" text-anchor="middle" font-family="{FONT}" font-size="13" '
        f'fill="#9da1a4">{xml_escape(title)}</text>',
    ]
    # Backgrounds first, merged over runs of one colour, so text is never covered.
    backs, shapes, texts = [], [], []
    strokes: dict[tuple[str, float], list[str]] = {}
    for r, row in enumerate(grid):
        y = oy + r * CELL_H
        c = 0
        while c < cols:
            bg = row[c][1].colors()[1] if row[c] else None
            start = c
            c += 1
            while c < cols and (row[c] is None or row[c][1].colors()[1] == bg):
                c += 1
            if bg is not None:
                backs.append(f'<rect x="{num(ox + start * CELL_W)}" y="{num(y)}" width="{num((c - start) * CELL_W)}" '
                              f'height="{num(CELL_H)}" fill="{hexc(bg)}"/>')
        c = 0
        while c < cols:
            cell = row[c]
            if cell is None or (cell[0] == " " and not (cell[1].underline or cell[1].strike)):
                c += 1
                continue
            style = cell[1]
            fg = hexc(style.colors()[0])
            if style.hidden and cell[0] in SHAPES:
                c += 1
                continue
            if cell[0] in SHAPES:
                span = 1
                while cell[0] in BLOCKS and c + span < cols and row[c + span] == cell:
                    span += 1
                draw_shape(cell[0], ox + c * CELL_W, y, fg, strokes, shapes, span)
                c += span
                continue
            # A run: same style, text glyphs (not shapes), spaces allowed inside.
            glyphs, xs = [], []
            end = c
            while end < cols:
                cur = row[end]
                if cur is None:
                    end += 1
                    continue
                if cur[1] != style or cur[0] in SHAPES:
                    break
                glyphs.append(cur[0])
                xs.append(ox + end * CELL_W)
                end += 1
            while glyphs and glyphs[-1] == " " and not (style.underline or style.strike):
                glyphs.pop()
                xs.pop()
            attrs = f'fill="{fg}"'
            if style.bold:
                attrs += ' font-weight="bold"'
            if style.italic:
                attrs += ' font-style="italic"'
            text = xml_escape("".join(glyphs))
            if text.strip():
                texts.append(f'<text x="{" ".join(num(v) for v in xs)}" y="{num(y + BASELINE)}" {attrs}>{text}</text>')
            run_w = (end - c) * CELL_W
            if style.underline:
                shapes.append(f'<rect x="{num(ox + c * CELL_W)}" y="{num(y + BASELINE + 2)}" width="{num(run_w)}" height="1" fill="{fg}"/>')
            if style.strike:
                shapes.append(f'<rect x="{num(ox + c * CELL_W)}" y="{num(y + CELL_H / 2)}" width="{num(run_w)}" height="1" fill="{fg}"/>')
            c = end
    out += backs
    out += shapes
    for (color, width), parts in strokes.items():
        out.append(f'<path d="{"".join(parts)}" fill="none" stroke="{color}" stroke-width="{num(width)}"/>')
    out.append(f'<g font-family="{FONT}" font-size="{num(FONT_SIZE)}" xml:space="preserve">')
    out += texts
    out += ["</g>", "</svg>", ""]
    return "\n".join(line for line in out if line)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="capture file with ANSI escapes, or - for stdin")
    ap.add_argument("output", help="SVG file to write, or - for stdout")
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--title", default="corral")
    a = ap.parse_args(argv)
    if a.cols < 1 or a.rows < 1:
        ap.error("--cols and --rows must be positive")
    try:
        if a.input == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(a.input, "rb") as f:
                data = f.read()
        text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
        svg = render(parse(text, a.cols, a.rows), a.cols, a.rows, a.title)
        if a.output == "-":
            sys.stdout.write(svg)
        else:
            with open(a.output, "w", encoding="utf-8") as f:
                f.write(svg)
    except OSError as e:
        print(f"ansi_to_svg.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
