#!/usr/bin/env bash
# Screenshots of the corral dashboard, for the README.
#
# Usage: scripts/screenshot.sh
#
# Builds corral (cargo build --release), then for each size runs
# `corral demo DIR` (DIR a fresh temporary directory) in a detached tmux session,
# waits until the dashboard shows the "Agents" panel and at least one agent row
# marked "running", lets the logs fill for a few seconds, captures the pane with
# its colours and turns the capture into an SVG with scripts/ansi_to_svg.py:
#
#   screenshots/dashboard.svg         120x40
#   screenshots/dashboard-80x24.svg   80x24
#
# Then it quits corral the way a person would (q, then y to confirm) and kills the
# session. Needs tmux and python3 (3.11+). The demo agents are corral's built-in
# `demo-agent`, so no real agent or network is involved.
#
# Environment (all optional):
#   CORRAL_BIN      corral binary to run; setting it skips the build
#   SHOT_DIR        where the SVGs go (default: screenshots)
#   READY_TIMEOUT   seconds to wait for a running agent (default: 60)
#   SETTLE_SECS     seconds to let logs fill once ready (default: 8)

set -euo pipefail

cd "$(dirname "$0")/.."
SHOT_DIR=${SHOT_DIR:-screenshots}
READY_TIMEOUT=${READY_TIMEOUT:-60}
SETTLE_SECS=${SETTLE_SECS:-8}
# A private tmux server with its own config, so a personal ~/.tmux.conf (status
# line, key bindings) cannot change what is captured. remain-on-exit keeps the
# pane of a corral that exits early, so its last screen can be shown.
SOCKET="corral-shot-$$"
tmx() { tmux -L "$SOCKET" -f "$WORK/tmux.conf" "$@"; }
pane() { tmx display-message -p -t "$1" "$2" 2>/dev/null || true; }

for tool in tmux python3; do
    command -v "$tool" >/dev/null || { echo "screenshot.sh: $tool is required" >&2; exit 1; }
done

if [[ -z "${CORRAL_BIN:-}" ]]; then
    cargo build --release
    CORRAL_BIN=target/release/corral
fi
CORRAL_BIN=$(realpath "$CORRAL_BIN")
mkdir -p "$SHOT_DIR"

WORK=$(mktemp -d)
printf 'set -g status off\nset -g remain-on-exit on\n' >"$WORK/tmux.conf"
cleanup() {
    tmx kill-server 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# shoot NAME COLS ROWS OUT.svg
shoot() {
    local name=$1 cols=$2 rows=$3 out=$4
    local dir="$WORK/$name" capture="$WORK/$name.ans"
    mkdir -p "$dir"
    # COLORTERM: so anything that checks for truecolor finds it, as in a modern terminal.
    tmx new-session -d -s "$name" -x "$cols" -y "$rows" \
        "env COLORTERM=truecolor $(printf '%q' "$CORRAL_BIN") demo $(printf '%q' "$dir")"

    # Ready once the panel title and a running agent are both on screen. Poll, with a
    # deadline, rather than sleeping a guessed time.
    local deadline=$((SECONDS + READY_TIMEOUT)) screen=""
    while :; do
        screen=$(tmx capture-pane -p -t "$name" 2>/dev/null || true)
        if grep -q "Agents" <<<"$screen" && grep -q "running" <<<"$screen"; then
            break
        fi
        if ((SECONDS >= deadline)); then
            echo "screenshot.sh: $name: no running agent after ${READY_TIMEOUT}s; last screen:" >&2
            printf '%s\n' "$screen" >&2
            return 1
        fi
        if [[ $(pane "$name" '#{pane_dead}') != 0 ]]; then
            echo "screenshot.sh: $name: corral exited before it was ready; last screen:" >&2
            printf '%s\n' "$screen" >&2
            return 1
        fi
        sleep 0.5
    done
    sleep "$SETTLE_SECS" # let a few log lines arrive, so the screenshot shows work

    # -e keeps colours; -N keeps trailing spaces, which carry background colours
    # (highlighted rows, status bars) that tmux would otherwise trim.
    tmx capture-pane -p -e -N -t "$name" >"$capture"
    python3 scripts/ansi_to_svg.py "$capture" "$out" --cols "$cols" --rows "$rows" \
        --title "corral demo — ${cols}x${rows}"
    echo "wrote $out"

    # Quit as a person would (q asks for confirmation), then make sure it is gone.
    tmx send-keys -t "$name" q
    sleep 0.5
    tmx send-keys -t "$name" y
    deadline=$((SECONDS + 10))
    until [[ $(pane "$name" '#{pane_dead}') != 0 ]] || ((SECONDS >= deadline)); do
        sleep 0.2
    done
    [[ $(pane "$name" '#{pane_dead}') == 1 ]] || echo "screenshot.sh: $name: corral did not quit on q, y" >&2
    tmx kill-session -t "$name" 2>/dev/null || true
}

shoot dashboard 120 40 "$SHOT_DIR/dashboard.svg"
shoot dashboard-80x24 80 24 "$SHOT_DIR/dashboard-80x24.svg"
