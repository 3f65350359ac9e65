"""Model downloads: throughput of `desktop-agent models pull`'s fetch (resumable,
sha256 as it goes, fsync at the end) vs `curl` of the same file from the same
scripted hub on 127.0.0.1, and what the sha256 costs.

The hub runs in a process of its own and serves the file two ways: with `sendfile`
from the page cache (a CDN's edge does that, and its CPU is not ours: on this
machine's 2 cores a server copying through Python takes the core our hashing thread
needs), and with the bytes through Python 1 MiB at a time (`--copy`), the stand-in
the first measurements used. For each, runs alternate (curl, ours, curl, ours...),
each after an `os.sync()` so no run pays for the dirty pages of the one before, and
medians are compared. Besides plain curl the baseline is shown as curl followed by
an fsync of its file and by `sha256sum`: the same work as ours. Hashing overhead:
sha256 of the same bytes in memory, as a share of our download time (it runs on a
thread of its own, on the bytes as they arrive).

    python tests/bench/bench_download.py [--mib 256] [--rounds 7]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from desktop_agent.providers.models.download import fetch  # noqa: E402
from desktop_agent.providers.models.hub import remote_file  # noqa: E402

REPO, FILE = "bench-org/bench-GGUF", "bench.gguf"


def measure(source: Path, tmp: Path, rounds: int, server_args: list[str]) -> dict[str, list[float]]:
    """Seconds of each way of fetching the file from a hub serving it so, per round."""
    hub = subprocess.Popen(
        [sys.executable, "-m", "tests.support.hub_server", REPO, FILE, str(source), *server_args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert hub.stdout is not None
    os.environ["HF_ENDPOINT"] = hub.stdout.readline().strip()
    size = source.stat().st_size
    times: dict[str, list[float]] = {"curl": [], "curl+fsync": [], "curl+fsync+sha": [], "ours": []}
    try:
        remote = remote_file(REPO, FILE)
        for i in range(rounds):
            target = Path(tmp, f"curl-{i}")
            os.sync()
            start = time.perf_counter()
            subprocess.run(["curl", "-sf", "-o", str(target), remote.url], check=True)
            times["curl"].append(time.perf_counter() - start)
            fd = os.open(target, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
            times["curl+fsync"].append(time.perf_counter() - start)
            subprocess.run(["sha256sum", str(target)], check=True, capture_output=True)
            times["curl+fsync+sha"].append(time.perf_counter() - start)
            assert target.stat().st_size == size
            target.unlink()
            part = Path(tmp, f"ours-{i}.part")
            os.sync()
            start = time.perf_counter()
            digest = fetch(remote, part)
            times["ours"].append(time.perf_counter() - start)
            assert digest == remote.sha256
            part.unlink()
    finally:
        hub.terminate()
        hub.wait(10)
    return times


def report(title: str, mib: float, times: dict[str, list[float]]) -> None:
    print(title)
    m = {name: statistics.median(values) for name, values in times.items()}
    for name, label in (("curl", "curl"), ("ours", "models pull (fetch)"),
                        ("curl+fsync", "curl + fsync"),
                        ("curl+fsync+sha", "curl + fsync + sha256sum")):  # fmt: skip
        spread = " ".join(f"{t:.2f}" for t in sorted(times[name]))
        print(f"  {label:26s} {mib / m[name]:8.1f} MiB/s (median {m[name]:.3f} s; {spread})")
    print(f"  ratio ours / curl:                          {m['curl'] / m['ours']:6.2f}")
    print(f"  ratio ours / curl + fsync:                  {m['curl+fsync'] / m['ours']:6.2f}")
    print(f"  ratio ours / curl + fsync + sha256sum:      {m['curl+fsync+sha'] / m['ours']:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    data = b"GGUF" + (3).to_bytes(4, "little") + os.urandom(args.mib * 1024 * 1024 - 8)
    mib = len(data) / (1024 * 1024)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "source.gguf")
        source.write_bytes(data)
        served = measure(source, Path(tmp), args.rounds, [])
        copied = measure(source, Path(tmp), args.rounds, ["--copy"])
    start = time.perf_counter()
    for _ in range(3):
        hashlib.sha256(data).hexdigest()
    hash_time = (time.perf_counter() - start) / 3
    print(f"file: {mib:.0f} MiB from the scripted hub on 127.0.0.1, {args.rounds} rounds each")
    report("hub serving with sendfile (the target's figure):", mib, served)
    report("hub copying through Python (--copy):", mib, copied)
    print(f"sha256 in memory:          {mib / hash_time:8.1f} MiB/s ({hash_time:.3f} s)")
    ours = statistics.median(served["ours"])
    print(f"hashing share of ours:     {100 * hash_time / ours:8.1f} % (sendfile hub)")


if __name__ == "__main__":
    main()
