"""Putting streamed tool calls back together.

Servers stream calls in two styles, and both must give the same calls:

* whole: a call arrives complete in one delta, ``id``, ``name`` and all of ``arguments``
  (z.ai without ``tool_stream``, non-streamed replies);
* fragments: the first delta of a call carries its ``index``, ``id`` and ``name``, later ones
  only the ``index`` and the next piece of ``arguments`` (vLLM, SGLang, OpenAI), several calls
  interleaved by ``index`` when they are parallel.

Some servers repeat the id and name on every fragment, or leave out ``index`` and send each
call at position 0 with a new id: a fragment whose id differs from the one its slot holds
starts a new call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from glmtui.api.events import ToolCallDelta
from glmtui.domain.tools import ToolCall


@dataclass(slots=True)
class _Slot:
    id: str = ""
    name: str = ""
    pieces: list[str] = field(default_factory=list)

    def call(self, number: int) -> ToolCall:
        return ToolCall(self.id or f"call_{number}", self.name, "".join(self.pieces))


class ToolCallAssembler:
    """Collects :class:`ToolCallDelta` pieces into :class:`ToolCall` objects, in call order."""

    def __init__(self) -> None:
        self._slots: list[_Slot] = []
        self._by_index: dict[int, int] = {}

    def add(self, delta: ToolCallDelta) -> int:
        """Take one piece; returns the position (in :meth:`calls`) of the call it belongs to."""
        position = self._by_index.get(delta.index)
        if position is not None:
            slot = self._slots[position]
            if delta.id and slot.id and delta.id != slot.id:
                position = None  # a new call reusing the index (no index sent)
        if position is None:
            position = len(self._slots)
            self._slots.append(_Slot())
            self._by_index[delta.index] = position
        slot = self._slots[position]
        if delta.id and not slot.id:
            slot.id = delta.id
        if delta.name and not slot.name:
            slot.name = delta.name
        if delta.arguments:
            slot.pieces.append(delta.arguments)
        return position

    def __len__(self) -> int:
        return len(self._slots)

    def call(self, position: int) -> ToolCall:
        """The call at ``position`` as far as it has arrived."""
        return self._slots[position].call(position)

    def calls(self) -> tuple[ToolCall, ...]:
        """Every call, in the order the model made them."""
        return tuple(slot.call(number) for number, slot in enumerate(self._slots))
