"""Find fenced code blocks in Markdown (for "copy code block"), without any UI."""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """One fenced or indented code block."""

    code: str
    language: str = ""

    @property
    def preview(self) -> str:
        """The first non-blank line, for pickers."""
        for line in self.code.splitlines():
            if line.strip():
                return line.strip()
        return "(empty)"

    @property
    def line_count(self) -> int:
        """Lines of code."""
        return len(self.code.splitlines())


_PARSER = MarkdownIt("commonmark")


def code_blocks(markdown: str) -> list[CodeBlock]:
    """Every code block in ``markdown``, in order (an unclosed fence counts)."""
    blocks: list[CodeBlock] = []
    for token in _PARSER.parse(markdown):
        if token.type in ("fence", "code_block"):
            language = token.info.strip().split()[0] if token.info.strip() else ""
            blocks.append(CodeBlock(token.content.rstrip("\n"), language))
    return blocks
