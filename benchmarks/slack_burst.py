"""Slack under a burst: `n` concurrent `/ask` slash commands against the local fake Slack.

Each command is a signed HTTP request to the adapter in HTTP mode, over a real socket, from
a different user (so the per-user question limit does not interfere). We measure, per
request, the time to Slack's acknowledgement (the HTTP response; Slack gives up after 3 s)
and the time until the answer reaches the command's `response_url` on the fake.

    python -m benchmarks.slack_burst [n]
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.fakes.slack_harness import SlackHarness, running_slack

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "data" / "seeds_eval.jsonl"
SLACK_ACK_LIMIT_MS = 3000.0


def _questions() -> list[str]:
    with open(QUESTIONS, encoding="utf-8") as f:
        return [json.loads(line)["question"] for line in f if line.strip()]


def _stats(values_ms: list[float]) -> dict[str, float]:
    data = np.asarray(values_ms, dtype=float)
    return {
        "p50": round(float(np.percentile(data, 50)), 1),
        "p95": round(float(np.percentile(data, 95)), 1),
        "max": round(float(data.max()), 1),
    }


async def _one(h: SlackHarness, i: int, question: str) -> tuple[int, float, float]:
    key = f"burst-{i}"
    start = time.perf_counter()
    status, _, _ = await h.command("/ask", question, key=key, user=f"UBURST{i:04d}")
    acked = time.perf_counter() - start
    [answer] = await h.fake.wait_for("response_url", key=key, timeout=300)
    return status, acked * 1000, (answer.at - start) * 1000


async def _burst(n: int) -> dict[str, Any]:
    questions = _questions()
    with tempfile.TemporaryDirectory() as tmp:
        async with running_slack(Path(tmp) / "data") as h:
            await _one(h, -1, questions[0])  # warm-up: bolt's auth.test, thread pool
            started = time.perf_counter()
            results = await asyncio.gather(
                *(_one(h, i, questions[i % len(questions)]) for i in range(n))
            )
            wall = time.perf_counter() - started
    acks = [r[1] for r in results]
    answers = [r[2] for r in results]
    return {
        "n": n,
        "acked_200": sum(1 for r in results if r[0] == 200),
        "ack_ms": _stats(acks),
        "answer_ms": _stats(answers),
        "acks_over_3s": sum(1 for a in acks if a > SLACK_ACK_LIMIT_MS),
        "wall_s": round(wall, 2),
    }


def slack_burst(n: int = 100) -> dict[str, Any]:
    """Ack and answer latencies (p50/p95/max, ms) for `n` concurrent slash commands."""
    return asyncio.run(_burst(n))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 100
    logging.basicConfig(level=logging.WARNING)
    result = slack_burst(n)
    print(
        f"Slack burst of {result['n']} concurrent /ask on the local fake "
        f"({result['acked_200']} acked, {result['acks_over_3s']} acks over 3 s, "
        f"{result['wall_s']} s in all)"
    )
    print(f"{'':8}{'p50':>10}{'p95':>10}{'max':>10}")
    for label, key in (("ack", "ack_ms"), ("answer", "answer_ms")):
        s = result[key]
        print(f"{label:8}{s['p50']:>8.1f}ms{s['p95']:>8.1f}ms{s['max']:>8.1f}ms")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
