"""Generate a folder of realistic session files for the store benchmark.

Each session has ``--messages`` messages (alternating user/assistant, default 20): prose built
from a Zipf-like vocabulary, assistant replies with reasoning, usage and sometimes a fenced code
block, so the files are the size of real conversations (≈20 KB each). A handful of damaged files
(truncated, empty, binary, not UTF-8, wrong shape) are mixed in, as in a real folder after years
of syncing. Output is deterministic for a given seed.

Known words for search benchmarks: :data:`COMMON_WORD` appears in most sessions,
:data:`RARE_WORD` in one session out of :data:`RARE_EVERY`, :data:`NO_MATCH` nowhere.

Run: ``python -m tests.benchmarks.gen_sessions FOLDER [--sessions 10000]``.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from glmtui.domain import Message, Parameters, Session, Usage
from glmtui.store.codecs import SessionFormat, encode_session
from glmtui.store.sessions import session_file_name, slugify

COMMON_WORD = "function"
RARE_WORD = "kerfuffle"
RARE_EVERY = 1000
NO_MATCH = "xylophonequartz"


def _words(text: str) -> list[str]:
    return text.split()


_BASE_WORDS = _words(
    "the of and to a in is it you that he was for on are with as I his they be at one have "
    "this from or had by hot word but what some we can out other were all there when up use "
    "your how said an each she which do their time if will way about many then them write "
    "would like so these her long make thing see him two has look more day could go come did "
    "number sound no most people my over know water than call first who may down side been "
    "now find any new work part take get place made live where after back little only round "
    "man year came show every good me give our under name very through just form sentence "
    "great think say help low line differ turn cause much mean before move right boy old too "
    "same tell does set three want air well also play small end put home read hand port large "
    "spell add even land here must big high such follow act why ask men change went light "
    "kind off need house picture try us again animal point mother world near build self earth "
    "father head stand own page should country found answer school grow study still learn "
    "plant cover food sun four between state keep eye never last let thought city tree cross "
    "farm hard start might story saw far sea draw left late run while press close night real "
    "life few north open seem together next white children begin got walk example ease paper "
    "group always music those both mark often letter until mile river car feet care second "
    "book carry took science eat room friend began idea fish mountain stop once base hear "
    "horse cut sure watch color face wood main enough plain girl usual young ready above ever"
)
_TECH_WORDS = _words(
    "rust lifetime borrow checker python async await coroutine generator iterator closure "
    "compiler runtime kernel thread mutex deadlock channel socket buffer parser tokenizer "
    "database index query transaction schema migration cache latency throughput benchmark "
    "profile memory allocation pointer reference struct trait interface module package "
    "dependency version release deploy container kubernetes docker terminal shell script "
    "regex unicode encoding decode serialize json toml yaml config environment variable "
    "gradient tensor matrix vector embedding attention transformer token context reasoning "
    "model inference quantization precision sampling temperature function method class"
)
_TITLES = (
    "Rust lifetimes question",
    "Why is my async loop blocking",
    "Explain attention in transformers",
    "SQL index for a slow query",
    "Docker build cache misses",
    "Unicode normalisation in Python",
    "Regex for ISO dates",
    "Refactor this class",
    "Kubernetes readiness probe",
    "Quantization trade-offs",
    "Write a haiku about compilers",
    "TOML vs YAML for config",
)
_CODE = [
    "```python\ndef {name}(items: list[int]) -> int:\n    total = 0\n    for item in items:\n"
    "        if item % 2 == 0:\n            total += item\n    return total\n```",
    "```rust\nfn {name}<'a>(x: &'a str, y: &'a str) -> &'a str {{\n    if x.len() > y.len() "
    "{{ x }} else {{ y }}\n}}\n```",
    "```sql\nCREATE INDEX idx_{name} ON events (user_id, created_at);\nSELECT count(*) FROM "
    "events WHERE user_id = ? AND created_at > ?;\n```",
    '```bash\nfor f in *.log; do\n  grep -c "{name}" "$f"\ndone\n```',
]


class _Text:
    """Random prose with a skewed word distribution (a few words very common, most rare)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words = _BASE_WORDS + _TECH_WORDS
        weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(self.words))]
        rng.shuffle(weights)
        self.cumulative = list(itertools.accumulate(weights))

    def sentence(self) -> str:
        words = self.rng.choices(self.words, cum_weights=self.cumulative, k=self.rng.randint(6, 22))
        return " ".join(words).capitalize() + self.rng.choice(".....?!")

    def paragraph(self, chars: int) -> str:
        out: list[str] = []
        size = 0
        while size < chars:
            sentence = self.sentence()
            out.append(sentence)
            size += len(sentence) + 1
        return " ".join(out)

    def reply(self, chars: int) -> str:
        parts: list[str] = []
        size = 0
        while size < chars:
            if self.rng.random() < 0.25:
                name = self.rng.choice(_TECH_WORDS)
                part = self.rng.choice(_CODE).format(name=name)
            elif self.rng.random() < 0.2:
                part = "\n".join(f"- {self.sentence()}" for _ in range(self.rng.randint(2, 5)))
            else:
                part = self.paragraph(self.rng.randint(150, 600))
            parts.append(part)
            size += len(part) + 2
        return "\n\n".join(parts)


def make_session(index: int, messages: int, rng: random.Random, text: _Text) -> Session:
    """One generated session; deterministic for a given ``rng`` state."""
    start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 63_000_000))
    when = start
    items: list[Message] = []
    for turn in range(messages):
        when += timedelta(seconds=rng.randint(5, 600))
        if turn % 2 == 0:
            body = text.paragraph(rng.randint(40, 500))
            if turn == 0 and index % RARE_EVERY == 7:
                body += f" Sorry for the {RARE_WORD} earlier."
            items.append(Message("user", body, created_at=when))
        else:
            content = text.reply(rng.randint(300, 2800))
            reasoning = text.paragraph(rng.randint(100, 1200))
            prompt = rng.randint(20, 8000)
            completion = (len(content) + len(reasoning)) // 4
            items.append(
                Message(
                    "assistant",
                    content,
                    created_at=when,
                    reasoning=reasoning,
                    status="complete",
                    finish_reason="stop",
                    model="zai-org-glm-5",
                    usage=Usage(prompt, completion, prompt + completion),
                )
            )
    return Session(
        title=f"{rng.choice(_TITLES)} #{index}",
        created_at=start,
        updated_at=when,
        model="zai-org-glm-5",
        provider="oxen",
        parameters=Parameters(temperature=0.7) if index % 3 == 0 else Parameters(),
        messages=items,
    )


_DAMAGED: list[tuple[str, bytes]] = [
    ("20240101-000000-truncated.toml", b'schema_version = 1\nid = "abc"\ntitle = "Trunc'),
    ("20240101-000001-empty.toml", b""),
    ("20240101-000002-binary.toml", bytes(range(256)) * 4),
    ("20240101-000003-latin1.json", '{"title": "caf\xe9"}'.encode("latin-1")),
    ("20240101-000004-wrong-type.json", b'["not", "a", "session"]\n'),
    ("20240101-000005-no-messages.toml", b'schema_version = 1\nid = "x"\ntitle = "No body"\n'),
]
"""Damaged files mixed into the folder (name, bytes)."""


def generate(
    folder: Path,
    sessions: int,
    *,
    messages: int = 20,
    seed: int = 5,
    damaged: bool = True,
    json_every: int = 10,
) -> list[Path]:
    """Write ``sessions`` generated sessions (and the damaged files) into ``folder``.

    Args:
        folder: The sessions folder; created if missing.
        sessions: How many sessions to write.
        messages: Messages per session.
        seed: Random seed; the same seed writes the same files.
        damaged: Also write the few damaged files.
        json_every: Every n-th session is JSON, the rest TOML (0 = all TOML).

    Returns:
        The paths written, damaged files last.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    text = _Text(rng)
    written: list[Path] = []
    for index in range(sessions):
        session = make_session(index, messages, rng, text)
        fmt: SessionFormat = "json" if json_every and index % json_every == 0 else "toml"
        path = folder / session_file_name(session.created_at, slugify(session.title), fmt)
        path = path.with_stem(f"{path.stem}-{index}")
        path.write_bytes(encode_session(session, fmt))
        written.append(path)
    if damaged:
        for name, data in _DAMAGED:
            path = folder / name
            path.write_bytes(data)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m tests.benchmarks.gen_sessions FOLDER [--sessions N]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the sessions folder to fill")
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    paths = generate(args.folder, args.sessions, messages=args.messages, seed=args.seed)
    size = sum(p.stat().st_size for p in paths)
    print(
        f"wrote {len(paths)} files ({size / 1e6:.0f} MB) to {args.folder} "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
