"""Compaction: the earlier turns of a long conversation replaced, in requests, by a summary.

A compaction asks the model to summarise every message before the last few exchanges (an
exchange is a prompt and everything that answered it: replies, tool calls and their results),
then marks those messages ``compacted`` and puts the summary where they ended, with
``summary_of`` naming them. From then on :meth:`~glmtui.domain.Session.wire_messages` sends the
summary instead of them; the session file keeps every original message (marked), the
conversation shows them folded, and undoing the compaction brings the exact earlier request
back.

This module is the pure part: which messages a compaction takes (:func:`plan_compaction`),
the request that summarises them (:func:`summary_history`), the message that replaces them
(:func:`summary_message`), and how large the next request is once some of the history is
compacted (:func:`request_estimate`). The turn itself (streaming, stopping, saving, events)
is :class:`~glmtui.chat.controller.ConversationController`'s.

Compactions nest: a later compaction takes the earlier summary with the messages after it, so
only one summary is ever in requests (the *live* one, :func:`live_summary`), and undo walks
back one compaction at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from glmtui.domain import Message, Session, Usage
from glmtui.domain.stats import context_use

INSTRUCTION = (
    "Summarise our conversation so far for yourself: the summary will replace the messages "
    "above, so that we can go on without them. Keep what later turns may need: my goals, "
    "questions, preferences and constraints; the decisions made and conclusions reached; the "
    "facts, names, numbers, file names, code, commands and tool results that are still "
    "relevant; and whatever is still open or was promised. Leave out greetings and anything "
    "that was superseded. Write concise Markdown notes, in the language of the conversation. "
    "Reply with the summary only: do not answer or continue the conversation."
)
"""What the model is asked, as the last user message after the messages to summarise (the
``[compaction] instruction`` setting replaces it)."""

PREFACE = (
    "Summary of our conversation so far (it stands in for the earlier messages, which are no "
    "longer part of this chat):"
)
"""The first paragraph of every summary message, before the model's text.

The summary is a ``user`` message. GLM's chat templates (GLM-4.5 to GLM-5, as vLLM, SGLang
and llama.cpp apply them) render every message as ``<|role|>`` plus its text and require no
alternation, so a user message right after the system prompt, followed by the next kept
prompt, is an ordinary history for them. A ``user`` summary is also what the model is meant
to take as given context rather than as a claim of its own it might continue or defend; an
``assistant`` message first after the system prompt, or a second ``system`` message in the
middle, is what stricter templates (and some providers) refuse. The preface tells the model
what the message is, and that details it does not hold are gone rather than merely unsaid.
"""


class CompactionRefused(Exception):
    """Nothing can be compacted; ``str(error)`` says why, in one line for the user."""


@dataclass(frozen=True, slots=True)
class CompactionPlan:
    """What one compaction replaces: ``messages`` (in order), keeping ``keep`` exchanges."""

    messages: tuple[Message, ...]
    keep: int

    @property
    def ids(self) -> tuple[str, ...]:
        """The replaced messages' ids (the summary's ``summary_of``)."""
        return tuple(message.id for message in self.messages)

    @property
    def shown(self) -> int:
        """How many of them the conversation shows as messages (prompts, replies, summaries;
        a tool result is drawn inside the reply that called it)."""
        return shown_count(self.messages)


def shown_count(messages: Sequence[Message]) -> int:
    """How many of ``messages`` the conversation draws as messages of their own."""
    return sum(1 for message in messages if message.role != "tool")


def exchanges(count: int) -> str:
    """``1 exchange``, ``2 exchanges``."""
    return f"{count} exchange{'s' if count != 1 else ''}"


def is_prompt(message: Message) -> bool:
    """True for a prompt that is in requests now: a user message neither compacted nor a
    summary. Exchanges are counted by these."""
    return message.role == "user" and not message.compacted and not message.summary_of


def live_summary(messages: Sequence[Message]) -> Message | None:
    """The summary in requests now (the latest compaction's), if any."""
    for message in reversed(messages):
        if message.summary_of and not message.compacted:
            return message
    return None


def plan_compaction(messages: Sequence[Message], keep: int) -> CompactionPlan:
    """The messages a compaction that keeps the last ``keep`` exchanges would replace: every
    message before them that is in requests now (an earlier summary included).

    Raises:
        CompactionRefused: there is nothing to compact (too few exchanges, or everything
            before them is summarised already).
    """
    keep = max(0, keep)
    prompts = [index for index, message in enumerate(messages) if is_prompt(message)]
    if not prompts and not any(not m.compacted for m in messages):
        raise CompactionRefused("Nothing to compact yet: the conversation is empty.")
    if keep and len(prompts) <= keep:
        since = " since the last compaction" if live_summary(messages) is not None else ""
        raise CompactionRefused(
            f"Nothing to compact: compaction keeps the last {exchanges(keep)}, and this "
            f"conversation has {len(prompts)}{since} (/compact N keeps N)."
        )
    cut = prompts[-keep] if keep else len(messages)
    chosen = tuple(message for message in messages[:cut] if not message.compacted)
    if not chosen or all(message.summary_of for message in chosen):
        before = f"before the last {exchanges(keep)} " if keep else ""
        raise CompactionRefused(f"Nothing to compact: everything {before}is summarised already.")
    return CompactionPlan(chosen, keep)


def summary_history(session: Session, plan: CompactionPlan, instruction: str = "") -> Session:
    """The conversation a summarising request is built from: the session (its model,
    parameters and system prompt) holding only the messages to summarise, then the
    instruction as the last prompt.

    The system prompt stays: the summary is written by the same assistant, and the request
    then begins exactly as the conversation's own requests do, so a provider that caches
    prompt prefixes serves most of it from its cache.
    """
    ask = Message("user", instruction.strip() or INSTRUCTION)
    return replace(session, messages=[*plan.messages, ask])


def summary_message(
    text: str, plan: CompactionPlan, *, model: str | None, usage: Usage | None
) -> Message:
    """The message that replaces ``plan``'s messages in requests (see :data:`PREFACE` for its
    role and wording). It carries the summarising request's usage, so the summary counts in
    the session's cost like any reply."""
    return Message(
        "user",
        f"{PREFACE}\n\n{text.strip()}",
        model=model,
        usage=usage,
        summary_of=plan.ids,
    )


def context_messages(messages: Sequence[Message]) -> list[Message]:
    """The messages that make up the next request, for estimating its size.

    Compacted messages are left out. Usage reported before the latest compaction is set
    aside (on copies): it measured the whole earlier history (the summary's own usage, too,
    measured the request that summarised it), so the size is estimated from the text until
    a reply after the compaction reports it again. A reply made in the same second as the
    summary counts as earlier: estimating is the safe side.
    """
    live = [message for message in messages if not message.compacted]
    summary = live_summary(live)
    if summary is None:
        return live
    made = summary.created_at
    return [
        replace(message, usage=None)
        if message.usage is not None and (message is summary or message.created_at <= made)
        else message
        for message in live
    ]


def request_estimate(session: Session) -> int:
    """About how many tokens the session's next request holds (the last reported usage plus
    what came after it; see :func:`context_messages`)."""
    return context_use(context_messages(session.messages), session.system_prompt, None).used
