"""Import benchmark for attachments: a ChatGPT `.zip` of N conversations, each with a
12-megapixel JPEG (4000×3000) in its first user message.

1. `import_file` with the app's preparer (upright, stripped, scaled to 2048): time,
   peak RSS of the process.
2. Meanwhile another connection writes to the history in a loop (as the window's
   recorder would): the longest it waited for the import's write lock. Images are
   prepared before each conversation's transaction, so this stays near the time of
   writing one conversation, not of preparing its images.
3. Baseline: `prepare()` alone of the same N images, one after another.

    python tests/bench/bench_import_files.py [--images 10]
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from desktop_agent.app.attachments import for_import, prepare  # noqa: E402
from desktop_agent.storage import Store  # noqa: E402
from desktop_agent.storage.importers import import_file  # noqa: E402
from tests.support.attach_files import jpeg_with_gps  # noqa: E402
from tests.support.exports import _node  # noqa: E402


def conversation(i: int) -> dict[str, object]:
    user = _node(
        "u",
        "root",
        ["a"],
        "user",
        [
            {"content_type": "image_asset_pointer", "asset_pointer": f"file-service://file-P{i}x"},
            f"Photo {i}: what is this?",
        ],
        t=100 + i,
        content_type="multimodal_text",
    )
    nodes = [_node("root", None, ["u"], None), user, _node("a", "u", [], "assistant", ["A."])]
    return {
        "title": f"Photo {i}",
        "mapping": {n["id"]: n for n in nodes},
        "current_node": "a",
        "conversation_id": f"c-{i}",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=10)
    args = parser.parse_args()
    photo = jpeg_with_gps(4000, 3000)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "export.zip"
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr(
                "conversations.json", json.dumps([conversation(i) for i in range(args.images)])
            )
            for i in range(args.images):  # (each its own bytes: no dedup helps)
                z.writestr(f"file-P{i}x-photo.jpg", photo[:-2] + bytes([i % 256]) + photo[-2:])
        size = archive.stat().st_size / 1024 / 1024
        print(
            f"{args.images} conversations, one 12-MP JPEG each ({len(photo) / 1e6:.1f} MB); "
            f"zip {size:.0f} MB"
        )

        start = time.perf_counter()
        for _ in range(args.images):
            prepare("photo.jpg", photo)
        baseline = time.perf_counter() - start

        db = Path(tmp) / "history.db"
        store = Store(db, session=False)
        stop = threading.Event()
        waits: list[float] = []

        def writer() -> None:
            other = sqlite3.connect(db, isolation_level=None, timeout=60)
            other.execute("CREATE TABLE IF NOT EXISTS bench_ping (t REAL)")
            while not stop.is_set():
                began = time.perf_counter()
                other.execute("BEGIN IMMEDIATE")
                waits.append(time.perf_counter() - began)
                other.execute("INSERT INTO bench_ping VALUES (?)", (began,))
                other.execute("COMMIT")
                time.sleep(0.005)
            other.close()

        thread = threading.Thread(target=writer)
        thread.start()
        start = time.perf_counter()
        summary = import_file(store, archive, prepare=for_import())
        elapsed = time.perf_counter() - start
        stop.set()
        thread.join()
        store.close()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        assert len(summary.files_kept) == args.images, summary.lines()
        waits.sort()
        print(
            f"1. import with attachments       {elapsed * 1000:8.0f} ms  "
            f"({elapsed * 1000 / args.images:.0f} ms per image), peak RSS {peak:.0f} MB"
        )
        print(
            f"2. a concurrent writer waited    longest {waits[-1] * 1000:.0f} ms, "
            f"median {waits[len(waits) // 2] * 1000:.1f} ms over {len(waits)} writes"
        )
        print(
            f"3. baseline: prepare() alone     {baseline * 1000:8.0f} ms  "
            f"({baseline * 1000 / args.images:.0f} ms per image)"
        )
        print(f"   ratio import / prepare alone  {elapsed / baseline:.2f}x")


if __name__ == "__main__":
    main()
