"""Render one Markdown block to lines of Textual ``Content``, theme-aware and cheap to cache.

glmtui renders replies block by block (see :mod:`glmtui.domain.markdown`): each top-level block
becomes a list of lines at a given width, cached until the width changes. Styles are theme
variables (``$markdown-h1-color``, ``$text-accent`` …), resolved when the lines are drawn, so a
theme switch needs no re-parse. Code is highlighted by Textual's highlighter with the theme's
``[code]`` styles (``$code-keyword`` …, see :mod:`glmtui.ui.themes`); an unclosed fence while
streaming is shown as plain text and highlighted once it closes, or, for a long one, piece by
piece as it grows (:func:`code_pieces`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.content import Content, Span

from glmtui.domain.markdown import RawBlock, new_parser
from glmtui.domain.text import visible_controls

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token
    from markdown_it.tree import SyntaxTreeNode
    from textual.highlight import HighlightTheme


@cache
def _parser() -> MarkdownIt:
    return new_parser()


HEADING_STYLES = {
    1: "bold $markdown-h1-color",
    2: "bold $markdown-h2-color",
    3: "bold $markdown-h3-color",
    4: "bold italic $markdown-h4-color",
    5: "italic $markdown-h5-color",
    6: "italic $markdown-h6-color",
}
CODE_INLINE = "$text-accent on $boost"
LINK = "underline $text-primary"
CODE_BLOCK = "on $code-block-background"
CODE_LABEL = "italic $text-muted"
QUOTE_BAR = "$text-primary 60%"
RULE = "$secondary"
TABLE_BORDER = "$text-muted"
TABLE_HEADER = "bold $text-primary"
BULLETS = ("•", "◦", "▪")

Lines = list[Content]


RAW_NOTICE = "italic $text-muted"
PIECED_FROM = 200
"""Code blocks of at least this many lines are highlighted in pieces (see :func:`code_pieces`)."""
PIECE_LINES = 48
"""The fewest lines in a piece of a long code block."""
_PIECE_BREAK = re.compile(r"\n(?:[ \t]*\n)+(?=\S)")
"""The end of a line, then blank lines, then a line that starts in the first column."""


def render_block(source: str, width: int) -> Lines:
    """One block as the conversation shows it: formatted, or as plain text when it cannot be.

    A :class:`~glmtui.domain.markdown.RawBlock` (too large to format) and Markdown nested too
    deeply for the parser are shown as plain text under a one-line notice, never as an error.
    """
    return _render_block(source, width)[0]


def _render_block(source: str, width: int) -> tuple[Lines, bool]:
    """:func:`render_block`, and whether ``source`` is one paragraph."""
    if isinstance(source, RawBlock):
        notice = "" if source.continued else "too large to format: shown as plain text"
        return render_raw(source, width, notice), False
    try:
        return _render_markdown(source, width)
    except RecursionError:
        notice = "nested too deeply to format: shown as plain text"
        return render_raw(source, width, notice), False


@dataclass(frozen=True, slots=True)
class OpenBlock:
    """The block a reply is still writing, as drawn at one frame: what the next may reuse."""

    source: str
    width: int
    lines: Lines
    paragraph: bool
    """``source`` is one paragraph (so plain words added to its last line only re-wrap it)."""


_PLAIN_TAIL = re.compile(r"[^\\`*_~&<>\[\]()|\s]*(?: +[^\\`*_~&<>\[\]()|\s]+)*")
"""Text with no inline Markdown in it (no escape, code, emphasis, entity, link, autolink or
table character) and no whitespace but spaces, none of them at its end."""
_OPEN_MARKUP = frozenset("\\`*_~&<>[]()|")


def render_open_block(source: str, width: int, previous: OpenBlock | None = None) -> OpenBlock:
    """The block a reply is still writing, given how it was drawn at the last frame.

    Why: the open block is drawn again at every frame, and most frames only add words to the
    end of a paragraph. Those words cannot change how the paragraph parses, nor any but its
    last line (greedy wrapping breaks a line before the first word that does not fit, and a
    word only grows), so the paragraph's
    last line is extended and re-wrapped instead of parsing and wrapping the whole block. Any
    other change renders the block afresh, and so does the block's final render once it ends.
    """
    if previous is not None and previous.width == width:
        if previous.source == source:
            return previous
        if previous.paragraph and source.startswith(previous.source):
            lines = _grown_paragraph(previous, source[len(previous.source) :])
            if lines is not None:
                return OpenBlock(source, width, lines, True)
    lines, paragraph = _render_block(source, width)
    return OpenBlock(source, width, lines, paragraph)


def _grown_paragraph(previous: OpenBlock, tail: str) -> Lines | None:
    """``previous``'s paragraph with ``tail`` added to its last line, or ``None`` when the
    tail could change more than that line."""
    before = previous.source
    last_line = before[before.rfind("\n") + 1 :]
    if (
        not previous.lines
        or not tail.isprintable()
        or not _PLAIN_TAIL.fullmatch(tail)
        # A line starting with a letter stays paragraph text whatever follows it on the line
        # (no list, heading, rule or underline); the paragraph must not start like a link
        # reference definition either.
        or not last_line[:1].isalpha()
        or before.lstrip()[:1] == "["
        # Words added after a delimiter (``_``, ``*``) can change whether it emphasises; an
        # entity (``&amp``) can be completed by what follows; trailing blanks are dropped.
        or before[-1] in _OPEN_MARKUP
        or before[-1].isspace()
        or "&" in last_line
    ):
        return None
    width = max(8, previous.width)
    return [*previous.lines[:-1], *(previous.lines[-1] + tail).wrap(width)]


def render_raw(source: str, width: int, notice: str = "") -> Lines:
    """Markdown source as plain text, with an optional notice line above it.

    Lines are cut at the width rather than word-wrapped: this is the path for megabytes of
    text, and cutting ASCII is a slice where wrapping is a walk over every character.
    """
    lines = [Content.styled(f"⋯ {notice}", RAW_NOTICE)] if notice else []
    width = max(8, width)
    for line in visible_controls(source).rstrip("\n").split("\n"):
        if not line:
            lines.append(Content(""))
        elif line.isascii() and "\t" not in line:
            lines.extend(Content(line[i : i + width]) for i in range(0, len(line), width))
        else:
            lines.extend(Content(line).wrap(width))
    return lines


MAX_NESTING = 60
"""Deeper Markdown (``*****…x…*****``, thousands of ``>``) is shown as plain text: no one
writes it on purpose, and walking it would exhaust Python's recursion limit."""


def _nesting_depth(tokens: list[Token]) -> int:
    """How deeply the parsed tokens nest, block and inline levels together."""
    depth = 0
    for token in tokens:
        inner = max((child.level for child in token.children or ()), default=0)
        depth = max(depth, token.level + inner)
    return depth


def render_markdown_block(source: str, width: int) -> Lines:
    """All the lines of one (or more) top-level Markdown blocks at ``width`` cells.

    Consecutive blocks inside ``source`` are separated by one blank line. Never returns an
    empty list for non-blank source, and no line wider than ``width`` unless lists and
    quotes nest deeper than the width allows (each level keeps at least one column; the
    conversation cuts such lines at the pane's edge).
    """
    return _render_markdown(source, width)[0]


def _render_markdown(source: str, width: int) -> tuple[Lines, bool]:
    """:func:`render_markdown_block`, and whether ``source`` is one paragraph."""
    from markdown_it.tree import SyntaxTreeNode

    width = max(8, width)
    source = visible_controls(source)
    parser = _parser()
    tokens = parser.parse(source)
    # markdown-it stops parsing at its nesting limit and drops what is deeper: a block that
    # reaches it is shown as plain text instead, so no character is lost.
    block_limit = int(parser.options.get("maxNesting", MAX_NESTING)) - 1
    if _nesting_depth(tokens) > MAX_NESTING or any(t.level >= block_limit for t in tokens):
        raise RecursionError(f"Markdown nested more than {MAX_NESTING} levels deep")
    root = SyntaxTreeNode(tokens)
    out: Lines = []
    for node in root.children:
        lines = _block(node, width)
        if not lines:
            continue
        if out:
            out.append(Content(""))
        out.extend(lines)
    if not out and source.strip():
        return Content(source.strip()).wrap(width), False
    children = root.children
    return out, len(children) == 1 and children[0].type == "paragraph"


def fence_language(opening_line: str) -> str:
    """The language named on a fence's opening line (```` ```python ```` → ``python``)."""
    info = opening_line.strip().lstrip("`~").strip()
    return info.split()[0] if info else ""


def render_code_label(language: str, width: int) -> Content:
    """The language line at the top of a code block."""
    language = visible_controls(language)
    return Content.styled(f" {language}".ljust(width), f"{CODE_LABEL} {CODE_BLOCK}")


def next_piece_end(code: str, start: int, end: int | None = None) -> int | None:
    """Where the piece of ``code`` that starts at ``start`` ends (the offset of the newline
    after its last line), looking no further than ``end``; ``None`` if not (yet) known.

    A piece has at least :data:`PIECE_LINES` lines and ends at a non-blank line followed by
    blank lines and a line starting in the first column: between two top-level definitions,
    where a lexer is back in its initial state in nearly all code.
    """
    limit = len(code) if end is None else end
    pos = start
    for _ in range(PIECE_LINES - 1):
        pos = code.find("\n", pos, limit) + 1
        if not pos:
            return None
    while (match := _PIECE_BREAK.search(code, pos, limit)) is not None:
        at = match.start()
        if code[code.rfind("\n", 0, at) + 1 : at].strip():  # it ends a non-blank line
            return at
        pos = match.end()
    return None


def code_pieces(code: str) -> list[str]:
    """A long code block (:data:`PIECED_FROM` lines or more) cut where pieces may end; a
    shorter one whole. ``"\\n".join(code_pieces(code)) == code``.

    Why: each piece is highlighted on its own and cached, so a 2,000-line block streams in
    coloured piece by piece and, once it closes, only its last piece is left to highlight
    (instead of the whole block at once: ~0.4 s). A block shown from a file is cut the same
    way, so a streamed reply ends up exactly as a one-shot render. The price: a construct
    that spans a cut (a module-level triple-quoted string with blank lines and unindented
    text in it) is coloured as if it started there.
    """
    if code.count("\n") + 1 < PIECED_FROM:
        return [code]
    pieces: list[str] = []
    start = 0
    while (end := next_piece_end(code, start)) is not None:
        pieces.append(code[start:end])
        start = end + 1
    pieces.append(code[start:])
    return pieces


@lru_cache(maxsize=256)
def code_piece_lines(piece: str, language: str, width: int) -> tuple[Content, ...]:
    """One piece of a code block, highlighted, on the code background (cached: a streamed
    block's pieces are highlighted once, while it streams)."""
    return tuple(_code_body(_highlight(piece, language), width))


def render_code_text(text: str, width: int) -> Lines:
    """Plain code lines (one per ``\\n``-separated line of ``text``) on the code background."""
    return _code_body(Content(visible_controls(text)), width)


def highlight_code(code: str, language: str) -> Content:
    """``code`` highlighted with the theme's code styles, not wrapped, no background (a tool's
    JSON result or arguments). Pygments is imported on first use."""
    return _highlight(visible_controls(code), language)


def render_plain(text: str, width: int, style: str = "") -> Lines:
    """Plain text (the model's reasoning): wrapped, blank lines kept, never parsed as markup."""
    out: Lines = []
    for line in visible_controls(text).rstrip("\n").split("\n"):
        content = Content.styled(line, style) if style else Content(line)
        out.extend(content.wrap(max(8, width)) if line else [Content("")])
    return out


# --- blocks --------------------------------------------------------------------------------


def _block(node: SyntaxTreeNode, width: int) -> Lines:
    width = max(1, width)  # nested lists and quotes narrow it: never to nothing
    kind = node.type
    if kind == "paragraph":
        return _inline_of(node).wrap(width)
    if kind == "heading":
        level = int(node.tag[1]) if node.tag[1:].isdigit() else 1
        return _heading(_inline_of(node), level, width)
    if kind in ("bullet_list", "ordered_list"):
        return _list(node, width, depth=0)
    if kind in ("fence", "code_block"):
        info = (node.info or "").strip()
        language = info.split()[0] if info else ""
        code = node.content.rstrip("\n")
        out = [render_code_label(language, width)] if language else []
        for piece in code_pieces(code):
            out.extend(code_piece_lines(piece, language, width))
        return out
    if kind == "blockquote":
        inner = _children(node, width - 2)
        bar = Content.styled("▌ ", QUOTE_BAR)
        return [bar + line for line in inner] or [bar]
    if kind == "hr":
        return [Content.styled("─" * width, RULE)]
    if kind == "table":
        return _table(node, width)
    if kind in ("html_block", "html_inline"):
        return Content(node.content.rstrip("\n")).wrap(width)
    # Anything unexpected: show its text rather than lose it.
    text = node.content if hasattr(node, "content") else ""
    return Content(text).wrap(width) if text else _children(node, width)


def _children(node: SyntaxTreeNode, width: int, *, tight: bool = False) -> Lines:
    out: Lines = []
    for child in node.children:
        lines = _block(child, width)
        if not lines:
            continue
        if out and not tight:
            out.append(Content(""))
        out.extend(lines)
    return out


def _heading(text: Content, level: int, width: int) -> Lines:
    styled = text.stylize_before(HEADING_STYLES.get(level, "bold"))
    if level == 1:
        lines = styled.wrap(max(1, width - 2))
        return [line.center(width) for line in lines]
    return styled.wrap(width)


def _list(node: SyntaxTreeNode, width: int, depth: int) -> Lines:
    ordered = node.type == "ordered_list"
    start = int(node.attrs.get("start", 1) or 1) if ordered else 1
    items = [child for child in node.children if child.type == "list_item"]
    markers = (
        [f"{start + i}." for i in range(len(items))]
        if ordered
        else [BULLETS[depth % len(BULLETS)]] * len(items)
    )
    marker_width = max((cell_len(m) for m in markers), default=1) + 1
    tight = _is_tight(node)
    out: Lines = []
    for item, marker in zip(items, markers, strict=True):
        body = _list_item(item, width - marker_width, depth, tight)
        if not body:
            body = [Content("")]
        if out and not tight:
            out.append(Content(""))
        prefix = Content.styled(marker.rjust(marker_width - 1) + " ", "$text-primary")
        indent = Content(" " * marker_width)
        out.append(prefix + body[0])
        out.extend(indent + line for line in body[1:])
    return out


def _list_item(item: SyntaxTreeNode, width: int, depth: int, tight: bool) -> Lines:
    out: Lines = []
    for child in item.children:
        if child.type in ("bullet_list", "ordered_list"):
            lines = _list(child, width, depth + 1)
        else:
            lines = _block(child, width)
        if out and not tight:
            out.append(Content(""))
        out.extend(lines)
    return out


def _is_tight(node: SyntaxTreeNode) -> bool:
    """Tight lists (no blank lines between items) hide their paragraphs in markdown-it."""
    for item in node.children:
        for child in item.children:
            if child.type == "paragraph":
                return bool(child.token is not None and child.token.hidden) or bool(
                    child.nester_tokens and child.nester_tokens.opening.hidden
                )
    return True


def _highlight(code: str, language: str) -> Content:
    """Highlight code with the theme's ``[code]`` styles (variables, resolved when drawn)."""
    if not code:
        return Content("")
    from textual.highlight import highlight  # pygments: imported when code is first shown

    try:
        return highlight(code, language=language or "text", theme=_code_theme())
    except Exception:
        return Content(code)


@cache
def _code_theme() -> type[HighlightTheme]:
    """A highlight theme whose styles are the ``$code-*`` variables of :mod:`glmtui.ui.themes`.

    Styles are variable names, not colours, so a highlighted block stays valid across theme
    switches: the view resolves ``$code-keyword`` against whichever theme is current.
    """
    from pygments.token import Token, string_to_tokentype
    from textual.highlight import HighlightTheme

    from glmtui.ui.themes import CODE_TOKENS

    styles: dict[tuple[str, ...], str] = {
        Token.Generic.Strong: "bold",
        Token.Generic.Emph: "italic",
        Token.Whitespace: "",
    }
    for key, spec in CODE_TOKENS.items():
        for token in spec.tokens:
            styles[string_to_tokentype(token)] = f"$code-{key}"

    class CodeTheme(HighlightTheme):
        STYLES = styles

    return CodeTheme


def _code_body(code: Content, width: int) -> Lines:
    """Code on its own background, one cell of padding each side, long lines folded."""
    inner = max(4, width - 2)
    out: Lines = []
    for line in code.split("\n", allow_blank=True) if code.plain else [Content("")]:
        line = line.expand_tabs(4)
        pieces = line.fold(inner) if line.cell_length > inner else [line]
        for piece in pieces:
            padded = Content(" ") + piece
            padded = padded.pad_right(width - padded.cell_length)
            out.append(padded.stylize_before(CODE_BLOCK))
    return out


def _table(node: SyntaxTreeNode, width: int) -> Lines:
    rows: list[list[Content]] = []
    aligns: list[str] = []
    header_rows = 0
    for section in node.children:
        for row in section.children:
            cells = [_inline_of(cell) for cell in row.children]
            if section.type == "thead":
                header_rows += 1
                aligns = [_align(cell) for cell in row.children]
            rows.append(cells)
    if not rows:
        return []
    columns = max(len(r) for r in rows)
    for r in rows:
        r.extend(Content("") for _ in range(columns - len(r)))
    aligns += ["left"] * (columns - len(aligns))
    natural = [max(max(r[c].cell_length for r in rows), 1) for c in range(columns)]
    available = max(columns * 3, width - (3 * columns + 1))
    widths = _fit_columns(natural, available)
    border = TABLE_BORDER

    def rule(left: str, middle: str, right: str) -> Content:
        return Content.styled(left + middle.join("─" * (w + 2) for w in widths) + right, border)

    out: Lines = [rule("┌", "┬", "┐")]
    for index, cells in enumerate(rows):
        wrapped = [
            (cell.stylize_before(TABLE_HEADER) if index < header_rows else cell).wrap(widths[c])
            or [Content("")]
            for c, cell in enumerate(cells)
        ]
        height = max(len(w) for w in wrapped)
        for y in range(height):
            line = Content.styled("│", border)
            for c, cell_lines in enumerate(wrapped):
                text = cell_lines[y] if y < len(cell_lines) else Content("")
                gap = widths[c] - text.cell_length
                if aligns[c] == "right":
                    text = text.pad_left(gap)
                elif aligns[c] == "center":
                    text = text.pad(gap // 2, gap - gap // 2)
                else:
                    text = text.pad_right(gap)
                line = line + " " + text + " " + Content.styled("│", border)
            out.append(line)
        if index + 1 == header_rows:
            out.append(rule("├", "┼", "┤"))
    out.append(rule("└", "┴", "┘"))
    return out


def _fit_columns(natural: Sequence[int], available: int) -> list[int]:
    """Shrink the widest columns first until the table fits."""
    widths = list(natural)
    while sum(widths) > available and max(widths) > 3:
        widest = max(range(len(widths)), key=widths.__getitem__)
        widths[widest] -= 1
    return widths


def _align(cell: SyntaxTreeNode) -> str:
    style = str(cell.attrs.get("style", "") or "")
    for align in ("right", "center", "left"):
        if align in style:
            return align
    return "left"


# --- inline --------------------------------------------------------------------------------


def _inline_of(node: SyntaxTreeNode) -> Content:
    for child in node.children:
        if child.type == "inline":
            return inline_content(child.children)
    return Content("")


def inline_content(nodes: Iterable[SyntaxTreeNode]) -> Content:
    """Inline Markdown (emphasis, code, links …) as one styled Content."""
    text: list[str] = []
    spans: list[Span] = []
    position = 0

    def walk(items: Iterable[SyntaxTreeNode], styles: tuple[str, ...]) -> None:
        nonlocal position
        for item in items:
            kind = item.type
            if kind == "text":
                emit(item.content, styles)
            elif kind == "code_inline":
                emit(item.content, (*styles, CODE_INLINE))
            elif kind in ("softbreak",):
                emit(" ", styles)
            elif kind == "hardbreak":
                emit("\n", styles)
            elif kind == "strong":
                walk(item.children, (*styles, "bold"))
            elif kind == "em":
                walk(item.children, (*styles, "italic"))
            elif kind == "s":
                walk(item.children, (*styles, "strike"))
            elif kind == "link":
                walk(item.children, (*styles, LINK))
            elif kind == "image":
                alt = "".join(child.content for child in item.children) or "image"
                emit(f"[image: {alt}]", (*styles, "italic"))
            elif kind == "html_inline":
                emit(item.content, styles)
            elif item.children:
                walk(item.children, styles)
            else:
                emit(getattr(item, "content", "") or "", styles)

    def emit(value: str, styles: tuple[str, ...]) -> None:
        nonlocal position
        if not value:
            return
        text.append(value)
        end = position + len(value)
        for style in styles:
            spans.append(Span(position, end, style))
        position = end

    walk(nodes, ())
    return Content("".join(text), spans=spans)
