"""A project's knowledge base at scale: index N generated Markdown files (default
10,000 of ~5.4 KB, ~54 MB), then 100 labelled questions.

Figures: indexing time (with the baseline of only reading and hashing the same files
in the same run: the I/O floor any indexer pays), database size vs. the text's size,
query latency p50/p99 over the 100 questions, recall@1 and recall@5 (the file that
states the asked fact among the first 1 / 5 passages' files), and a re-scan with
nothing changed (mtime + size checks only).

    python tests/bench/bench_knowledge.py [N]
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from desktop_agent.app.projects import Projects  # noqa: E402
from desktop_agent.storage import Store  # noqa: E402
from tests.support.corpus import write_corpus  # noqa: E402


class HashedEmbedder:
    """An in-process stand-in for /v1/embeddings: 256-d hashed bags of words (the
    bench measures the app's storage and ranking, not a model)."""

    async def embed(self, texts: list[str], model: str) -> list[list[float]]:
        out = []
        for text in texts:
            vector = [0.0] * 256
            for word in re.findall(r"\w+", text.lower()):
                vector[zlib.crc32(word.encode()) % 256] += 1.0
            out.append(vector)
        return out


async def hybrid(projects: Projects, project_id: str, asked: list[str], questions: dict) -> None:
    projects.embedder, projects.embedding_model = HashedEmbedder(), "hashed-256"
    t0 = time.perf_counter()
    count = await projects.embed(project_id)
    print(
        f"hybrid: {count:,} passages embedded and stored in {time.perf_counter() - t0:.1f} s "
        "(in-process hashed 256-d vectors)"
    )
    latencies: list[float] = []
    top5 = 0
    for question in asked:
        t0 = time.perf_counter()
        hits = await projects.asearch(project_id, question)
        latencies.append((time.perf_counter() - t0) * 1000)
        top5 += str(questions[question]) in [h.path for h in hits]
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"  hybrid queries: p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms, "
        f"recall@5 {top5 / len(asked):.2f}"
    )


def main() -> None:
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    work = Path(tempfile.mkdtemp(prefix="bench-knowledge-"))
    corpus = work / "corpus"
    t0 = time.perf_counter()
    questions = write_corpus(corpus, files, paragraphs=6, words=120)
    paths = sorted(corpus.rglob("*.md"))
    text_bytes = sum(p.stat().st_size for p in paths)
    print(
        f"corpus: {files:,} files, {text_bytes / 1e6:.1f} MB "
        f"(generated in {time.perf_counter() - t0:.1f} s)"
    )

    t0 = time.perf_counter()
    for path in paths:
        hashlib.sha256(path.read_bytes()).hexdigest()
    baseline = time.perf_counter() - t0

    store = Store(work / "history.db", session=False)
    projects = Projects(store)
    project = projects.create("Bench")
    t0 = time.perf_counter()
    report = projects.index(project.id, [corpus])
    indexing = time.perf_counter() - t0
    assert report.indexed == files, report.summary()
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = sum(f.stat().st_size for f in work.iterdir() if f.name.startswith("history.db"))
    print(
        f"index: {indexing:.1f} s ({files / indexing:,.0f} files/s, "
        f"{text_bytes / 1e6 / indexing:.2f} MB/s), {report.passages:,} passages"
    )
    print(
        f"  baseline: read + sha256 of the same files {baseline:.2f} s; "
        f"ratio {indexing / baseline:.1f}x"
    )
    print(f"database: {size / 1e6:.1f} MB ({size / text_bytes:.2f}x the text; after a checkpoint)")

    t0 = time.perf_counter()
    again = projects.rescan(project.id)
    print(
        f"re-scan, nothing changed: {time.perf_counter() - t0:.2f} s "
        f"({again.unchanged:,} unchanged)"
    )

    rng = random.Random(1)
    asked = rng.sample(sorted(questions), min(100, len(questions)))
    latencies: list[float] = []
    top1 = top5 = 0
    for question in asked:
        t0 = time.perf_counter()
        hits = projects.search(project.id, question)
        latencies.append((time.perf_counter() - t0) * 1000)
        found = [h.path for h in hits]
        target = str(questions[question])
        top1 += bool(found) and found[0] == target
        top5 += target in found
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"queries ({len(asked)}): p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        "(each opens its own connection, as the tool does)"
    )
    print(f"recall@1 {top1 / len(asked):.2f}, recall@5 {top5 / len(asked):.2f}")
    asyncio.run(hybrid(projects, project.id, asked, questions))
    store.close()
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
