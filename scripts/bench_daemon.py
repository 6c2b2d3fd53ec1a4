#!/usr/bin/env python3
"""End-to-end figures for the daemon, on the release binary (README, "Benchmarks").

1. Attach to first frame on the demo project: `corral` started attached in a private tmux
   server until its first frame is on screen; and a bare protocol client, from connect to its
   first snapshot (hello, subscribe, snapshot).
2. The 4 x 250,000-line flood: the daemon's CPU (utime + stime from /proc/<pid>/stat) while
   four agents each print 250,000 lines, with no dashboard attached and with one dashboard
   (in tmux) following a flooding run. Runs alternate (none, one, none, one, ...) and the
   medians are compared.

Usage: cargo build --release && scripts/bench_daemon.py [--runs N]
Needs tmux. Everything runs in a temp directory and on its own tmux socket.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("CORRAL_BIN", os.path.join(ROOT, "target/release/corral"))
TMUX = ["tmux", "-L", f"corral-bench-{os.getpid()}"]
TICK = os.sysconf("SC_CLK_TCK")


def corral(project, *args, check=True, env=None):
    out = subprocess.run([BIN, "--project", project, *args], capture_output=True, text=True,
                         env=env)
    if check and out.returncode != 0:
        sys.exit(f"corral {' '.join(args)}: {out.stderr}")
    return out.stdout


def wait(what, limit, check, every=0.05):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(every)
    sys.exit(f"timed out waiting for {what}")


def daemon_pid(project):
    v = json.loads(corral(project, "daemon", "status", "--json"))
    return v["lock"]["pid"] if v["running"] else None


def stop(project):
    corral(project, "daemon", "stop", check=False)


def tmux_session(command):
    """A new 120x40 session named `bench` running `command` (tried again while a server that
    just lost its last session is still going away)."""
    for _ in range(50):
        if subprocess.run(TMUX + ["new-session", "-d", "-s", "bench", "-x", "120", "-y", "40",
                                  command], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    sys.exit(f"tmux cannot start {command}")


def screen():
    out = subprocess.run(TMUX + ["capture-pane", "-p", "-t", "bench"], capture_output=True,
                         text=True)
    return out.stdout


def first_frame(project):
    """Seconds from starting `corral` in tmux until its dashboard is on screen."""
    start = time.monotonic()
    tmux_session(f"{BIN} --project {project}")
    wait("the first frame", 20, lambda: "Agents" in screen() and "Queue" in screen(),
         every=0.002)
    took = time.monotonic() - start
    subprocess.run(TMUX + ["kill-session", "-t", "bench"], check=False)
    return took


def first_snapshot(project):
    """Seconds from connect to the first snapshot, for a bare protocol client."""
    path = os.path.join(project, ".corral/control.sock")
    start = time.monotonic()
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    f = s.makefile("rwb")
    hello = {"type": "hello", "protocol": 1, "version": "bench", "pid": os.getpid()}
    f.write((json.dumps(hello) + "\n").encode())
    f.write(b'{"type":"request","id":1,"request":{"req":"subscribe"}}\n')
    f.flush()
    while True:
        msg = json.loads(f.readline())
        if msg["type"] == "snapshot":
            break
    took = time.monotonic() - start
    s.close()
    return took


def demo_project(work):
    """The demo project, made by `corral demo` (in tmux, then left)."""
    project = os.path.join(work, "demo")
    tmux_session(f"{BIN} demo {project}")
    wait("the demo project", 20, lambda: os.path.exists(os.path.join(project, ".corral/lock")))
    wait("the demo dashboard", 20, lambda: "Agents" in screen())
    pane = int(subprocess.run(TMUX + ["display", "-p", "-t", "bench", "#{pane_pid}"],
                              capture_output=True, text=True).stdout)
    subprocess.run(TMUX + ["kill-session", "-t", "bench"], check=False)
    # An in-process dashboard (the pane's own process) stops with its terminal, its agents
    # given their grace; a demo daemon keeps running.
    if daemon_pid(project) in (pane, None):
        wait("the demo to stop", 90, lambda: daemon_pid(project) is None, every=0.2)
        corral(project, "daemon", "start")
    return project


FLOOD = ("while [ ! -e go ]; do sleep 0.05; done; "
         "seq -f 'flood line %g: a line of an agent printing as fast as it can' 1 250000")


def flood_project(work, n):
    project = os.path.join(work, f"flood{n}")
    os.makedirs(project)
    corral(project, "init")
    with open(os.path.join(project, "corral.toml"), "w") as f:
        f.write("[scheduler]\nmax_agents = 4\n\n"
                "[profiles.coding]\nrole = \"coding\"\n"
                f"command = [\"sh\", \"-c\", {json.dumps(FLOOD)}]\n")
    for i in range(4):
        corral(project, "feature", "add", "--name", f"flood {i}")
    return project


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def runs(project):
    return json.loads(corral(project, "agent", "list", "--json"))


def flood_cpu(work, n, dashboard):
    """The daemon's CPU seconds for one 4 x 250,000-line flood."""
    project = flood_project(work, n)
    corral(project, "daemon", "start")
    try:
        pid = daemon_pid(project)
        wait("4 live runs", 30, lambda: sum(r["state"]["state"] == "running"
                                            for r in runs(project)) == 4, every=0.2)
        if dashboard:
            tmux_session(f"{BIN} --project {project}")
            wait("the dashboard", 20, lambda: "Agents" in screen())
            time.sleep(0.5)
        before = cpu_ticks(pid)
        open(os.path.join(project, "go"), "w").close()
        wait("the flood to end", 600, lambda: all(r["state"]["state"] != "running"
                                                  for r in runs(project)), every=0.5)
        used = (cpu_ticks(pid) - before) / TICK
        if dashboard:
            lines = screen()
            subprocess.run(TMUX + ["kill-session", "-t", "bench"], check=False)
            if "flood line" not in lines:
                print("  (note: the dashboard's Log pane did not show the flood)")
        return used
    finally:
        stop(project)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} not found: run `cargo build --release` first")
    if not shutil.which("tmux"):
        sys.exit("tmux is needed")
    work = tempfile.mkdtemp(prefix="corral-bench-")
    env_note = f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    print(f"corral daemon benchmarks ({BIN}, {env_note})")
    try:
        demo = demo_project(work)
        frames = [first_frame(demo) for _ in range(max(args.runs, 5))]
        snaps = [first_snapshot(demo) for _ in range(20)]
        stop(demo)
        print(f"attach to first frame (tmux, demo project): median {statistics.median(frames)*1000:.0f} ms"
              f" (min {min(frames)*1000:.0f}, max {max(frames)*1000:.0f}, {len(frames)} runs)")
        print(f"connect to first snapshot (protocol client): median {statistics.median(snaps)*1000:.1f} ms"
              f" (min {min(snaps)*1000:.1f}, max {max(snaps)*1000:.1f}, {len(snaps)} runs)")
        none, one = [], []
        for i in range(args.runs):
            none.append(flood_cpu(work, 2 * i, False))
            one.append(flood_cpu(work, 2 * i + 1, True))
            print(f"  flood {i + 1}: daemon CPU {none[-1]:.2f} s alone, {one[-1]:.2f} s with a dashboard")
        a, b = statistics.median(none), statistics.median(one)
        print(f"4 x 250,000-line flood, daemon CPU: median {a:.2f} s with no dashboard, "
              f"{b:.2f} s with one following a flooding run: {100 * (b / a - 1):+.1f}% "
              f"(target: at most +10%)")
    finally:
        subprocess.run(TMUX + ["kill-server"], check=False, capture_output=True)
        # No daemon outlives the script, however it ended.
        for name in os.listdir(work):
            project = os.path.join(work, name)
            if os.path.exists(os.path.join(project, ".corral/lock")):
                stop(project)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
