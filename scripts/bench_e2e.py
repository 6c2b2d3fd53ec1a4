#!/usr/bin/env python3
"""End-to-end benchmarks of the real corral binary, as a user runs it (the README's Performance
table comes from these).

    cargo build --release
    scripts/bench_e2e.py [flood|idle|cli|all] [--bin target/release/corral]

flood   4 agents each print 250,000 lines of 100 bytes under `corral run --headless`. corral's
        own CPU (utime+stime of /proc/<pid>/stat, its agents not included) and peak resident
        memory (VmHWM) are read while it runs. The same bytes relayed by `cat > file` are timed
        in the same run (cat's own CPU from wait4), and the ratio printed; the run logs are
        counted for lost lines.
idle    10 agents that sleep, started by one scheduling decision: how long from the first
        agent running to the tenth (and from corral's launch), then corral's CPU over 30 s
        with all ten asleep, and its resident memory.
cli     a refused command (`corral feature show 999`) timed with and without RUST_BACKTRACE=1.

Linux only (it reads /proc). Agents are `sh -c` programs named in the profile's argv; corral
itself runs no shell string.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

TICK = os.sysconf("SC_CLK_TCK")
# 99 bytes and a newline: 100 bytes a line.
PAYLOAD = "x" * 99


def cpu_seconds(pid):
    """utime+stime of pid itself (not its children), and its state letter."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICK, fields[0]


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def project(binary, root, agents, command, ring_lines):
    """A temp project: corral.toml with one coding profile and `agents` features."""
    corral(binary, root, "init")
    toml = (
        f"[scheduler]\nmax_agents = {agents}\n\n"
        f"[logs]\nring_lines = {ring_lines}\n\n"
        "[profiles.coding]\nrole = \"coding\"\n"
        f"command = {json.dumps(command)}\n"
    )
    with open(os.path.join(root, "corral.toml"), "w") as f:
        f.write(toml)
    features = [
        {
            "id": i + 1,
            "name": f"Feature {i + 1}",
            "category": "Bench",
            "description": "",
            "steps": [],
            "dependencies": [],
        }
        for i in range(agents)
    ]
    path = os.path.join(root, "backlog.json")
    with open(path, "w") as f:
        json.dump(features, f)
    corral(binary, root, "import", path)


def env_for(root):
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = os.path.join(root, ".xdg")
    env["XDG_DATA_HOME"] = os.path.join(root, ".xdg")
    env.pop("RUST_BACKTRACE", None)
    return env


def corral(binary, root, *args):
    out = subprocess.run([binary, *args], cwd=root, env=env_for(root), capture_output=True)
    if out.returncode != 0:
        sys.exit(f"corral {' '.join(args)}: {out.stderr.decode(errors='replace')}")
    return out


def watch(proc, every=0.005, until=None):
    """Polls a running corral until it ends (or `until()` is true): its final CPU seconds, the
    highest VmHWM and the highest anonymous resident memory (RssAnon) seen. A process that has exited but is not yet reaped (a zombie) still
    shows its CPU times, so the last reading is exact."""
    cpu, hwm, anon = 0.0, 0, 0
    while True:
        try:
            cpu, state = cpu_seconds(proc.pid)
        except OSError:
            break
        hwm = max(hwm, status_kb(proc.pid, "VmHWM") or 0)
        anon = max(anon, status_kb(proc.pid, "RssAnon") or 0)
        if state == "Z" or (until and until()):
            break
        time.sleep(every)
    return cpu, hwm, anon


def cat_relay(command, agents):
    """The same producers piped into `cat > file`: cat's own CPU seconds (summed) and wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.monotonic()
        pairs = []
        for i in range(agents):
            out = open(os.path.join(tmp, f"{i}.out"), "wb")
            producer = subprocess.Popen(command, stdout=subprocess.PIPE)
            cat = subprocess.Popen(["cat"], stdin=producer.stdout, stdout=out)
            producer.stdout.close()
            pairs.append((producer, cat, out))
        total = 0.0
        for producer, cat, out in pairs:
            _, _, usage = os.wait4(cat.pid, 0)
            cat.returncode = 0
            total += usage.ru_utime + usage.ru_stime
            producer.wait()
            out.close()
        return total, time.monotonic() - start


def flood(binary, agents, lines, ring_lines):
    command = ["sh", "-c", f"yes {PAYLOAD} | head -n {lines}"]
    cat_cpu, cat_wall = cat_relay(command, agents)
    with tempfile.TemporaryDirectory() as root:
        project(binary, root, agents, command, ring_lines)
        start = time.monotonic()
        proc = subprocess.Popen(
            [binary, "run", "--headless", "--until-done"],
            cwd=root,
            env=env_for(root),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        cpu, hwm, anon = watch(proc)
        _, err = proc.communicate()
        wall = time.monotonic() - start
        if proc.returncode != 0:
            sys.exit(f"corral run failed ({proc.returncode}): {err.decode(errors='replace')}")
        runs = os.path.join(root, ".corral", "runs")
        seen = 0
        want = "O " + PAYLOAD + "\n"
        for name in os.listdir(runs):
            with open(os.path.join(runs, name)) as f:
                seen += sum(1 for line in f if line == want)
    total = agents * lines
    print(f"flood: {agents} agents x {lines} lines of 100 bytes, ring_lines {ring_lines}")
    print(f"  corral --headless  cpu {cpu:.2f} s ({cpu / total * 1e6:.2f} s per million lines), wall {wall:.2f} s")
    print(f"  cat > file         cpu {cat_cpu:.2f} s, wall {cat_wall:.2f} s (same bytes, same run)")
    print(f"  ratio              {cpu / max(cat_cpu, 1e-3):.2f}x cat")
    print(f"  lines lost         {total - seen} of {total}")
    print(f"  peak RSS           {hwm / 1024:.1f} MB ({anon / 1024:.1f} MB of it anonymous, the rest the binary's pages)")


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def idle(binary, agents, seconds):
    with tempfile.TemporaryDirectory() as root:
        journal = os.path.join(root, "started")
        # Each agent notes when it runs (ns), then sleeps well past the measure.
        command = ["sh", "-c", f"date +%s%N >> {journal}; exec sleep {seconds + 60}"]
        project(binary, root, agents, command, 10000)
        launched = time.time_ns()
        proc = subprocess.Popen(
            [binary, "run", "--headless"],
            cwd=root,
            env=env_for(root),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with open(journal) as f:
                    stamps = [int(l) for l in f.read().split()]
            except OSError:
                stamps = []
            if len(stamps) >= agents:
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                sys.exit(f"only {len(stamps)} of {agents} agents started")
            time.sleep(0.01)
        # Let start-up settle (the first frame of state written, files flushed).
        time.sleep(2)
        before, _ = cpu_seconds(proc.pid)
        time.sleep(seconds)
        after, _ = cpu_seconds(proc.pid)
        rss = status_kb(proc.pid, "VmRSS") or 0
        anon = status_kb(proc.pid, "RssAnon") or 0
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    first, last = min(stamps), max(stamps)
    print(f"start-up: {agents} agents started by one decision")
    print(f"  first to last agent running  {(last - first) / 1e6:.1f} ms")
    print(f"  corral launched to last      {(last - launched) / 1e6:.1f} ms")
    print(f"idle: {agents} sleeping agents, {seconds} s")
    print(f"  corral cpu                   {(after - before) * 1000:.0f} ms")
    print(f"  resident memory              {rss / 1024:.1f} MB ({anon / 1024:.1f} MB anonymous)")


def cli(binary):
    with tempfile.TemporaryDirectory() as root:
        project(binary, root, 1, ["true"], 100)
        corral(binary, root, "feature", "list")
        print("cli: a refused command (`corral feature show 999`), best of 5")
        for backtrace in (None, "1"):
            best = None
            for _ in range(5):
                env = env_for(root)
                if backtrace:
                    env["RUST_BACKTRACE"] = backtrace
                start = time.monotonic()
                out = subprocess.run(
                    [binary, "feature", "show", "999"], cwd=root, env=env, capture_output=True
                )
                took = time.monotonic() - start
                if out.returncode == 0:
                    sys.exit("feature show 999 did not refuse")
                best = took if best is None else min(best, took)
            label = "RUST_BACKTRACE=1" if backtrace else "RUST_BACKTRACE unset"
            print(f"  {label:22} {best * 1000:.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", default="all", choices=["flood", "idle", "cli", "all"])
    parser.add_argument("--bin", default="target/release/corral")
    parser.add_argument("--agents", type=int, default=4, help="flooding agents")
    parser.add_argument("--lines", type=int, default=250_000, help="lines per flooding agent")
    parser.add_argument("--ring-lines", type=int, default=10_000)
    parser.add_argument("--sleepers", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=30, help="idle measure")
    args = parser.parse_args()
    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary}: not built (cargo build --release)")
    if args.what in ("flood", "all"):
        flood(binary, args.agents, args.lines, args.ring_lines)
    if args.what in ("idle", "all"):
        idle(binary, args.sleepers, args.seconds)
    if args.what in ("cli", "all"):
        cli(binary)


if __name__ == "__main__":
    main()
