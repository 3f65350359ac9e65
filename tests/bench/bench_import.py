"""Import benchmark: a generated ChatGPT export of 500 conversations, ~200 MB.

Each measurement runs in its own process (peak RSS = that process's `ru_maxrss`):
1. `import_file` of the 200 MB export into an empty history: time, peak RSS.
2. The same on a 50 MB export (125 conversations): peak RSS should not grow with
   the file (bounded, not proportional).
3. Baseline: `json.load` of the same 200 MB file (what a non-streaming importer
   does before writing anything): time, peak RSS.

    python tests/bench/bench_import.py [--mb 200] [--conversations 500]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.exports import write_big_chatgpt  # noqa: E402

MB = 1024 * 1024

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
mode, path, db = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
start = time.perf_counter()
if mode == "import":
    from desktop_agent.storage import Store
    from desktop_agent.storage.importers import import_file
    store = Store(db, session=False)
    summary = import_file(store, path)
    store.close()
    count = len(summary.imported)
else:
    with open(path, "rb") as f:
        count = len(json.load(f))
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": elapsed, "peak_mb": peak, "conversations": count}}))
"""


def child(mode: str, path: Path, db: Path) -> dict[str, float]:
    code = CHILD.format(root=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code, mode, str(path), str(db)],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--conversations", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big, small = folder / "big.json", folder / "small.json"
        size = write_big_chatgpt(big, args.conversations, args.mb * MB)
        small_size = write_big_chatgpt(small, args.conversations // 4, args.mb * MB // 4)
        print(f"export: {args.conversations} conversations, {size / MB:.0f} MB")
        imported = child("import", big, folder / "a.db")
        print(
            f"import {size / MB:.0f} MB: {imported['seconds']:.1f} s "
            f"({size / MB / imported['seconds']:.1f} MB/s, "
            f"{imported['conversations']:.0f} conversations), peak RSS {imported['peak_mb']:.0f} MB"
        )
        quarter = child("import", small, folder / "b.db")
        print(
            f"import {small_size / MB:.0f} MB: {quarter['seconds']:.1f} s, "
            f"peak RSS {quarter['peak_mb']:.0f} MB"
        )
        loaded = child("load", big, folder / "c.db")
        print(
            f"baseline json.load {size / MB:.0f} MB (no writing): {loaded['seconds']:.1f} s, "
            f"peak RSS {loaded['peak_mb']:.0f} MB"
        )
        print(
            f"peak RSS: import / json.load = {imported['peak_mb'] / loaded['peak_mb']:.2f}; "
            f"import of 4x the file / import of the file = "
            f"{imported['peak_mb'] / quarter['peak_mb']:.2f}"
        )
        print(f"history.db: {(folder / 'a.db').stat().st_size / MB:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
