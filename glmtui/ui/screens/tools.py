"""The Tools screen: the MCP servers, their state, their tools, and which tools are offered.

Each server is listed with its state (starting, ready, failed with the reason, disabled,
stopped) and its tools with the first line of their descriptions; a tool is switched on or
off for this run with Enter, Space or a click (the model is offered only tools that are on).
The list follows the servers as they start or fail. With no server configured the screen
says how to add one, rather than showing an empty list.

Names and descriptions come from the servers: drawn with control characters made visible,
never obeyed and never read as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from glmtui.domain.text import visible_controls

if TYPE_CHECKING:
    from pathlib import Path

    from glmtui.domain.tools import ToolSpec
    from glmtui.ui.tool_host import ServerInfo, ToolHost, ToolRuntime

SUMMARY_CHARS = 72
"""A tool's description is cut to this many characters (its first line only)."""

STATES = {
    "ready": ("●", "$text-success"),
    "starting": ("◌", "$text-muted"),
    "failed": ("✗", "$text-error"),
    "disabled": ("○", "$text-muted"),
    "stopped": ("■", "$text-warning"),
}
"""The mark and colour of each server state."""

EXAMPLE = """\
[mcp.servers.time]
command = "uvx"
args = ["mcp-server-time"]
allow = ["get_current_time"]   # runs without asking (others ask first)"""


def no_servers_text(config_path: Path) -> Content:
    """What the screen says when no MCP server is configured: what tools are, and how to add
    a server (by hand, or from another MCP client's config)."""
    code = "$text-accent"
    return Content.assemble(
        ("No MCP servers are configured.", "bold"),
        "\n\nTools let the model call programs you choose (a clock, your files, a search) "
        "through MCP servers. Add one to your config file, ",
        (visible_controls(str(config_path)), code),
        ":\n\n",
        (EXAMPLE, code),
        "\n\nor copy the servers another MCP client knows (Claude Desktop, Cursor, VS Code):\n\n",
        ("glmtui mcp import PATH-TO-ITS-JSON", code),
        "\n\nthen start glmtui again. Each call asks you first unless its tool is in the "
        "server's allow list (docs: Tools).",
    )


class ToolsScreen(ModalScreen[None]):
    """The MCP servers and their tools; switch tools on or off for this run.

    | Key | Action |
    |---|---|
    | Enter, Space | Switch the highlighted tool on or off |
    | Up / Down | Move between tools |
    | Esc, F5, q | Close |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f5,q", "dismiss", "Close", id="tools.close"),
        Binding("space", "switch", "On/off", id="tools.toggle"),
    ]

    DEFAULT_CSS = """
    ToolsScreen { align: center middle; }
    ToolsScreen > Vertical {
        width: 100; max-width: 95%; height: auto; max-height: 90%;
        background: $panel; border: round $primary; padding: 0 1;
    }
    ToolsScreen .tools-title { text-style: bold; color: $text-primary; padding: 1 0 0 0; }
    ToolsScreen .tools-help { color: $text-muted; padding: 0 0 1 0; }
    ToolsScreen #tools-list {
        height: auto; max-height: 30; border: none; padding: 0 0 1 0; background: $panel;
    }
    ToolsScreen #tools-list:focus { border: none; background-tint: initial; }
    ToolsScreen VerticalScroll { height: auto; max-height: 30; padding: 0 0 1 0; }
    """

    def __init__(self, runtime: ToolRuntime, config_path: Path) -> None:
        """
        Args:
            runtime: The app's MCP servers (the host, once made, and its change signal).
            config_path: The config file (named where the screen says how to add a server).
        """
        super().__init__()
        self.runtime = runtime
        self.config_path = config_path
        self._specs: dict[str, ToolSpec] = {}
        """The tools listed, by option id."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Tools · MCP servers  (Esc closes)", classes="tools-title", markup=False)
            if not self.runtime.configured:
                with VerticalScroll():
                    yield Static(no_servers_text(self.config_path), id="tools-empty")
                return
            yield Static(
                "Enter or Space switches the highlighted tool on or off for this run; "
                "the model is offered only the tools that are on.",
                classes="tools-help",
                markup=False,
            )
            yield OptionList(id="tools-list")

    def on_mount(self) -> None:
        if self.runtime.configured:
            self._fill()
            self.runtime.changed.subscribe(self, lambda _: self._fill())
            self.query_one(OptionList).focus()

    def on_unmount(self) -> None:
        self.runtime.changed.unsubscribe(self)

    @property
    def host(self) -> ToolHost | None:
        """The MCP host (None until it is made, just after the first frame)."""
        return self.runtime.host

    def _fill(self) -> None:
        """List the servers and tools as they are now, keeping the highlighted tool."""
        options = self.query_one(OptionList)
        highlighted = options.highlighted_option
        keep = highlighted.id if highlighted is not None else None
        host = self.host
        self._specs = {}
        items: list[Option] = []
        servers = host.servers() if host is not None else []
        if not servers:
            items.append(
                Option(Content.styled("Starting the servers…", "$text-muted"), disabled=True)
            )
        for server in servers:
            items.extend(self._server_options(server))
        options.set_options(items)
        if keep is not None and keep in self._specs:
            options.highlighted = options.get_option_index(keep)
        elif self._specs and options.highlighted is None:
            options.highlighted = options.get_option_index(next(iter(self._specs)))

    def _server_options(self, server: ServerInfo) -> list[Option]:
        mark, style = STATES.get(server.state, ("?", "$text-muted"))
        name = visible_controls(server.name)
        count = len(server.tools)
        facts = [server.state, server.transport]
        if server.state == "ready":
            facts.append(f"{count} tool{'s' if count != 1 else ''}")
        line = Content.assemble(
            (f"{mark} ", style), (name, "bold"), (f"  {' · '.join(facts)}", "$text-muted")
        )
        out = [Option(line, id=f"server:{server.name}", disabled=True)]
        if server.state == "failed" and server.error:
            error = visible_controls(server.error.strip())
            out.append(
                Option(
                    Content.styled(_indent(error), "$text-error"),
                    id=f"error:{server.name}",
                    disabled=True,
                )
            )
        for spec in server.tools:
            option_id = f"tool:{spec.label}"
            self._specs[option_id] = spec
            out.append(Option(self._tool_line(spec), id=option_id))
        return out

    def _tool_line(self, spec: ToolSpec) -> Content:
        """``[✓] name — summary`` (``[ ]`` when off), and whether it runs without asking."""
        host = self.host
        on = host is not None and host.is_enabled(spec)
        summary = visible_controls(spec.summary)
        if len(summary) > SUMMARY_CHARS:
            summary = summary[: SUMMARY_CHARS - 1].rstrip() + "…"
        parts: list[str | tuple[str, str]] = [
            ("  [✓] " if on else "  [ ] ", "$text-success" if on else "$text-muted"),
            (visible_controls(spec.name), "bold" if on else "$text-muted"),
        ]
        if summary:
            parts.append((f" — {summary}", "$text-muted"))
        if host is not None and host.is_allowed(spec):
            parts.append(("  (runs without asking)", "italic $text-warning"))
        return Content.assemble(*parts)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._toggle(event.option.id)

    def action_switch(self) -> None:
        """Switch the highlighted tool on or off."""
        option = self.query_one(OptionList).highlighted_option if self.runtime.configured else None
        if option is not None:
            self._toggle(option.id)

    def _toggle(self, option_id: str | None) -> None:
        spec = self._specs.get(option_id or "")
        host = self.host
        if spec is None or host is None or option_id is None:
            return
        host.set_enabled(spec.label, not host.is_enabled(spec))
        self.query_one(OptionList).replace_option_prompt(option_id, self._tool_line(spec))


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())
