"""A long conversation for the long-session benchmark, generated deterministically.

:func:`long_session` builds 1,000 messages (500 prompts, 500 replies) of about 200,000 tokens
in all, counted with the loopback server's tokenizer. Replies rotate through four shapes so the
mix resembles a coding assistant's: prose with a list, a code answer (a 20-30 line fenced
block between two paragraphs), a comparison table with notes, and a mixed answer with a short
bash block and a quote; each ends with a
paragraph of next steps. Every other reply carries a few sentences of reasoning.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from glmtui.domain import Message, Session, Usage
from tests.server import tokenize

START = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)
MODEL = "zai-org-glm-5"

_PROMPTS = (
    "How do I make step {i} of the ingestion pipeline retry on timeouts without duplicating rows?",
    "Can you write a Python function for task {i} that parses the log lines and "
    "returns the slowest requests?",
    "Compare the three storage options for dataset {i}; which one fits a 2 TB table?",
    "Why does job {i} fail with `KeyError: 'region'` only in production?",
)

_PROSE = """Short answer: make step {i} **idempotent** and let the retry happen at the \
boundary, not inside the transaction.

The pipeline currently writes each batch and then commits the offset. When the write times \
out after the database has already applied it, the retry writes the same rows again. There \
are two ways to close that gap, and both keep the *happy path* as fast as it is today:

1. Give every batch a stable key (`batch_{i}_<offset>`) and write with an upsert, so a \
replay overwrites instead of appending.
2. Record the offset in the **same transaction** as the rows, and skip batches whose offset \
is already stored.

Either way, keep the retry policy simple:

- retry only on timeouts and connection resets, never on constraint errors;
- back off exponentially from 0.5 s up to 20 s, with jitter;
- give up after five attempts and raise an alert with the batch key.

The second option needs no schema change beyond one column, which makes it the safer first \
step for pipeline {i}. Once it is deployed, watch the duplicate counter for a day before \
removing the old clean-up job."""

_CODE = '''Here is a small, complete function for task {i}. It streams the file, so memory stays \
flat even for multi-gigabyte logs:

```python
import re
from collections.abc import Iterable
from dataclasses import dataclass

LINE = re.compile(r"(?P<path>/\\S*) (?P<status>\\d{{3}}) (?P<ms>\\d+)ms")


@dataclass(frozen=True)
class Slow{i}:
    path: str
    status: int
    ms: int


def slowest_{i}(lines: Iterable[str], limit: int = 10) -> list[Slow{i}]:
    """The `limit` slowest requests in `lines`, slowest first."""
    found: list[Slow{i}] = []
    for line in lines:
        match = LINE.search(line)
        if match is None:
            continue
        found.append(Slow{i}(match["path"], int(match["status"]), int(match["ms"])))
    found.sort(key=lambda item: item.ms, reverse=True)
    return found[:limit]


if __name__ == "__main__":
    with open("access-{i}.log", encoding="utf-8") as handle:
        for item in slowest_{i}(handle):
            print(f"{{item.ms:>6}} ms  {{item.status}}  {{item.path}}")
```

It skips lines that do not match instead of failing, which matters for logs that mix \
formats. If you need percentiles rather than the top ten, keep a histogram per path instead \
of the full list.'''

_TABLE = """For dataset {i} (about 2 TB, append-mostly, read by analysts) the options compare \
like this:

| Option | Cost / month | Query latency | Operations | Fit for {i} |
|---|---:|---:|---|---|
| Managed warehouse | $2,300 | 1-3 s | none | good |
| Parquet on object storage | $46 | 3-10 s | a catalogue to run | very good |
| Postgres with partitions | $900 | 0.1-30 s | vacuum, backups | poor at this size |

Parquet on object storage is the best fit: the data is append-mostly, the analysts already \
use SQL engines that read it directly, and the cost is two orders of magnitude lower.

> Keep the raw files immutable and partition by day; compaction can run weekly.

The warehouse only wins if you need sub-second dashboards on the full history, which the \
request for dataset {i} does not mention."""

_MIXED = """The `KeyError: 'region'` in job {i} comes from the production config: the \
staging file sets `region`, production inherits it from an environment variable that the \
scheduler does not pass to child processes.

Check it on a production worker:

```bash
sudo -u jobs env | grep -i region || echo "REGION is not set for job {i}"
cat /etc/jobs/{i}/config.toml | grep -n region
```

Then fix it in one of two places:

- set `region = "eu-west-1"` explicitly in the production config (simplest), or
- add `REGION` to the scheduler's `pass_env` list so every job sees it.

> Prefer the explicit setting: a job that depends on the scheduler's environment breaks \
again the day someone moves it to another runner.

After the change, rerun job {i} once by hand and confirm that the report lands in the \
right bucket."""

_REASONING = (
    "The user asks about item {i}. I should give a direct answer first, then the reasoning "
    "and a concrete next step. Keep it short enough to read in one screen."
)

_FOOTER = """

**Next steps for {i}:** try the change on a staging copy first, compare the row counts and \
the p95 latency before and after, and keep the old path behind a flag for a week, so you can \
switch back without a deploy. If anything looks off, send me the exact error message and the \
last twenty lines of the log, and we will narrow it down together."""

_SHAPES = (_PROSE, _CODE, _TABLE, _MIXED)


def _reply(i: int) -> str:
    return (_SHAPES[i % len(_SHAPES)] + _FOOTER).format(i=i)


def long_session(messages: int = 1000) -> Session:
    """A finished conversation of ``messages`` messages, alternating prompt and reply."""
    items: list[Message] = []
    for n in range(messages):
        i = n // 2
        when = START + timedelta(minutes=n)
        if n % 2 == 0:
            text = _PROMPTS[i % len(_PROMPTS)].format(i=i)
            items.append(Message("user", text, created_at=when, id=f"u{i:04d}"))
            continue
        content = _reply(i)
        reasoning = _REASONING.format(i=i) if i % 2 == 0 else ""
        completion = len(tokenize(content)) + len(tokenize(reasoning))
        items.append(
            Message(
                "assistant",
                content,
                created_at=when,
                id=f"a{i:04d}",
                reasoning=reasoning,
                status="complete",
                finish_reason="stop",
                model=MODEL,
                usage=Usage(
                    prompt_tokens=20 * n,
                    completion_tokens=completion,
                    total_tokens=20 * n + completion,
                ),
            )
        )
    return Session(
        id="bench-long-session",
        title="A long working session",
        created_at=START,
        updated_at=START + timedelta(minutes=messages),
        model=MODEL,
        messages=items,
    )


def session_tokens(session: Session) -> int:
    """Content plus reasoning tokens of every message (the loopback server's tokenizer)."""
    return sum(len(tokenize(m.content)) + len(tokenize(m.reasoning)) for m in session.messages)


def as_pairs(session: Session) -> list[tuple[str, str]]:
    """``(role, content)`` of every message, for the naive screen."""
    return [(m.role, m.content) for m in session.messages]
