"""Model downloads: throughput of `desktop-agent models pull`'s fetch (resumable,
hashing as it goes) vs `curl` of the same file from the same scripted hub on
127.0.0.1, and what the sha256 costs.

Both write the file to disk (ours ends with an fsync, so the baseline is also shown
as curl followed by an fsync of its file, and by `sha256sum` too: the same work as
ours, which verifies while it downloads); runs alternate (curl, ours, curl, ours...) and the
medians are compared. Hashing overhead: sha256 of the same bytes in memory, as a
share of our download time (it runs inline, on the bytes as they arrive).

    python tests/bench/bench_download.py [--mib 256] [--rounds 5]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    data = b"GGUF" + (3).to_bytes(4, "little") + os.urandom(args.mib * 1024 * 1024 - 8)
    size = len(data)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "source.gguf")
        source.write_bytes(data)
        # The hub in a process of its own, as a real server is (no GIL shared with us).
        hub = subprocess.Popen(
            [sys.executable, "-m", "tests.support.hub_server", REPO, FILE, str(source)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert hub.stdout is not None
        os.environ["HF_ENDPOINT"] = hub.stdout.readline().strip()
        remote = remote_file(REPO, FILE)
        curl_times, curl_sync_times, curl_verified_times, our_times = [], [], [], []
        for i in range(args.rounds):
            target = Path(tmp, f"curl-{i}")
            start = time.perf_counter()
            subprocess.run(["curl", "-sf", "-o", str(target), remote.url], check=True)
            curl_times.append(time.perf_counter() - start)
            fd = os.open(target, os.O_RDONLY)  # ours ends with the file durable: fsync too
            os.fsync(fd)
            os.close(fd)
            curl_sync_times.append(time.perf_counter() - start)
            subprocess.run(["sha256sum", str(target)], check=True, capture_output=True)
            curl_verified_times.append(time.perf_counter() - start)
            assert target.stat().st_size == size
            target.unlink()
            part = Path(tmp, f"ours-{i}.part")
            start = time.perf_counter()
            digest = fetch(remote, part)
            our_times.append(time.perf_counter() - start)
            assert digest == remote.sha256
            part.unlink()
        hub.terminate()
        hub.wait(10)
        start = time.perf_counter()
        for _ in range(3):
            hashlib.sha256(data).hexdigest()
        hash_time = (time.perf_counter() - start) / 3
    curl, ours = statistics.median(curl_times), statistics.median(our_times)
    curl_sync = statistics.median(curl_sync_times)
    verified = statistics.median(curl_verified_times)
    mib = size / (1024 * 1024)
    print(f"file: {mib:.0f} MiB from the scripted hub on 127.0.0.1, {args.rounds} rounds each")
    print(f"curl:                    {mib / curl:8.1f} MiB/s (median {curl:.3f} s)")
    print(f"models pull (fetch):     {mib / ours:8.1f} MiB/s (median {ours:.3f} s)")
    print(f"curl + fsync:            {mib / curl_sync:8.1f} MiB/s (median {curl_sync:.3f} s)")
    print(f"curl+fsync+sha256sum:    {mib / verified:8.1f} MiB/s (median {verified:.3f} s)")
    print(f"ratio ours / curl:       {curl / ours:8.2f}")
    print(f"ratio ours / curl+fsync: {curl_sync / ours:8.2f}")
    print(f"ratio ours / curl+fsync+sha256sum (the same work): {verified / ours:8.2f}")
    print(f"sha256 in memory:        {mib / hash_time:8.1f} MiB/s ({hash_time:.3f} s)")
    print(f"hashing share of ours:   {100 * hash_time / ours:8.1f} %")


if __name__ == "__main__":
    main()
