"""The command line's grammar: every command, option and help text, in one place.

Global options (``--base-url``, ``--model``, ``--provider``, ``--demo``, ``--config``) are
accepted before or after a subcommand's name: subparsers declare them with ``SUPPRESS``
defaults, so a value given after the name wins and one given before is not reset.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, NoReturn

from glmtui import __version__
from glmtui.cli.common import UsageError

if TYPE_CHECKING:
    Subcommands = argparse._SubParsersAction["Parser"]


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of exiting, so ``main`` owns every exit path."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\nRun '{self.prog} --help' for usage.")


def global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Options every command takes. Subparsers use SUPPRESS so they don't clobber the top level."""
    default: str | None = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("connection (any command, before or after its name)")
    group.add_argument(
        "--base-url", metavar="URL", default=default, help="API root (overrides config/env)"
    )
    group.add_argument("--model", metavar="ID", default=default, help="model id to use")
    group.add_argument(
        "--provider", metavar="NAME", default=default, help="provider profile from the config"
    )
    group.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="use the built-in offline demo backend (no key, no network)",
    )
    group.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        help="config file (default: $GLMTUI_CONFIG if set, else the one 'glmtui config path' "
        "prints)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The full command-line grammar."""
    parser = Parser(
        prog="glmtui",
        usage="glmtui [options] [--session ID | --sessions | --model-info ID]\n"
        "       glmtui COMMAND [options] ...   (ask, models, sessions, config, mcp)",
        description=(
            "A terminal chat client for GLM-5 on Oxen.ai and any OpenAI-compatible server. "
            "With no command, starts the full-screen app."
        ),
        epilog=(
            "Environment: OXEN_API_KEY (key), GLMTUI_BASE_URL, GLMTUI_MODEL, GLMTUI_PROVIDER, "
            "GLMTUI_THEME, GLMTUI_CONFIG (config file), GLMTUI_DATA_DIR (sessions, caches). "
            "Exit status: 0 ok, 1 API, network or file error, 2 bad usage, config or unknown "
            "session, 130 interrupted, 141 output closed (as cat)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"glmtui {__version__}")
    global_options(parser, suppress=False)
    parser.add_argument("--theme", metavar="NAME", help="theme for this run")
    tui = parser.add_mutually_exclusive_group()
    tui.add_argument(
        "--session", metavar="ID", help="resume a saved session (an id or a unique prefix)"
    )
    tui.add_argument("--sessions", action="store_true", help="start in the session browser")
    tui.add_argument(
        "--model-info", metavar="ID", help="start on a model's details (its id, e.g. zai-org-glm-5)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    ask = commands.add_parser(
        "ask",
        help="one-shot question; streams the answer to stdout",
        description=(
            "Ask one question and stream the answer to stdout. The prompt comes from the "
            "arguments, from stdin, or both (arguments first, then stdin). With --session, "
            "the question continues a saved conversation, as in the app. -f attaches files: "
            "text is sent inline, images and PDFs to a model that takes them."
        ),
    )
    ask.add_argument(
        "prompt",
        nargs="*",
        help="the prompt; '-' stands for stdin (default: read stdin when it is piped); may be "
        "left out when a file is attached",
    )
    ask.add_argument(
        "-f",
        "--file",
        dest="files",
        action="append",
        default=[],
        metavar="FILE",
        help="attach a file (text, PNG/JPEG/WebP/GIF image, PDF) or a folder's text files "
        "(as .gitignore leaves them); '-' attaches stdin; repeatable",
    )
    ask.add_argument("--system", metavar="TEXT", help="system prompt")
    ask.add_argument("--temperature", type=float, metavar="T", help="sampling temperature, 0–2")
    ask.add_argument("--top-p", type=float, metavar="P", help="nucleus sampling, 0–1")
    ask.add_argument("--max-tokens", type=int, metavar="N", help="most tokens to generate")
    ask.add_argument("--frequency-penalty", type=float, metavar="F", help="frequency penalty, −2–2")
    ask.add_argument("--presence-penalty", type=float, metavar="F", help="presence penalty, −2–2")
    ask.add_argument("--seed", type=int, metavar="N", help="sampling seed")
    ask.add_argument(
        "--stop",
        action="append",
        metavar="TEXT",
        help="stop sequence (repeat for up to 4)",
    )
    ask.add_argument(
        "--no-stream", action="store_true", help="wait for the whole answer, then print it"
    )
    ask.add_argument(
        "--json-mode",
        action="store_true",
        help='ask for one JSON object as the answer (response_format {"type": "json_object"}); '
        "refused where the provider or model does not take it",
    )
    ask.add_argument(
        "--print-request",
        choices=("curl", "python", "json"),
        metavar="FORMAT",
        help="print the request as curl, python or json instead of sending it "
        "(the key is written as its environment variable)",
    )
    ask.add_argument(
        "--show-reasoning", action="store_true", help="print the model's reasoning to stderr"
    )
    ask.add_argument(
        "--allow-tools",
        action="store_true",
        help="let the model run every tool of the configured MCP servers without asking",
    )
    ask.add_argument(
        "--allow-tool",
        action="append",
        default=[],
        metavar="NAME",
        help="let the model run this tool (TOOL or SERVER.TOOL; repeatable); calls the config "
        "does not allow are otherwise denied",
    )
    ask.add_argument("--no-tools", action="store_true", help="offer no tools (start no MCP server)")
    ask.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: content, reasoning, usage, finish_reason, model, error",
    )
    saving = ask.add_mutually_exclusive_group()
    saving.add_argument(
        "--save",
        "--new-session",
        action="store_true",
        help="also store the exchange as a new session (see 'glmtui sessions')",
    )
    saving.add_argument(
        "--session",
        metavar="ID",
        default=argparse.SUPPRESS,  # `glmtui --session ID ask …` means the same
        help="continue a saved session (an id, a unique prefix or its file): its server, "
        "model, parameters and history; the new turn is saved into it",
    )
    global_options(ask, suppress=True)

    models = commands.add_parser(
        "models",
        usage="glmtui models [--json] [--search TEXT] [options]\n"
        "       glmtui models show ID [--json] [options]",
        help="list the provider's models, or show one",
        description=(
            "The provider's model catalogue: id, name, context length and prices per 1M "
            "tokens. The provider is always asked; when it cannot be reached, or there is no "
            "key or the key is rejected, the copy cached on the last success is shown (or the "
            "built-in GLM-5 card) and stderr says so."
        ),
    )
    models.add_argument("--json", action="store_true", help="print the raw model objects")
    models.add_argument(
        "--search",
        metavar="TEXT",
        help="only models whose id, name, developer or summary contain every word of TEXT",
    )
    global_options(models, suppress=True)
    models_sub = models.add_subparsers(dest="models_command", metavar="ACTION")
    show = models_sub.add_parser(
        "show",
        help="show one model's card",
        description=(
            "One model's card: limits, prices per 1M tokens, size and precision, request "
            "parameters and description. Exits 1 when the model does not exist."
        ),
    )
    show.add_argument("model_id", metavar="ID")
    show.add_argument("--json", action="store_true", help="print the raw model object")
    global_options(show, suppress=True)

    _sessions_parser(commands)
    _mcp_parser(commands)

    config = commands.add_parser(
        "config", help="where the config lives and what it holds", description="Configuration."
    )
    global_options(config, suppress=True)
    config.add_argument(
        "action",
        choices=("path", "show", "reference", "keys"),
        nargs="?",
        default="show",
        help="path: print the config file's path; show: the effective settings (default); "
        "reference: every setting, as a Markdown table; keys: every key binding in force "
        "(id, keys, what it does; [keymap] remaps them)",
    )
    config.add_argument("--json", action="store_true", help="keys: print them as JSON")
    return parser


def _sessions_parser(commands: Subcommands) -> None:
    """``glmtui sessions list|show|search|export``: the saved conversations, from the shell."""
    sessions = commands.add_parser(
        "sessions",
        usage="glmtui sessions [list] [--json] [options]\n"
        "       glmtui sessions show ID | search TEXT... | export ID [--format F] [-o FILE]",
        help="list, show, search and export saved sessions",
        description=(
            "Saved sessions (one TOML or JSON file each, in the data dir's sessions/ folder). "
            "ID may be any unique prefix of a session id, or a session file's path. "
            "With no action, lists them."
        ),
    )
    sessions.add_argument("--json", action="store_true", help="print JSON instead of a table")
    global_options(sessions, suppress=True)
    actions = sessions.add_subparsers(dest="sessions_command", metavar="ACTION")

    listing = actions.add_parser("list", help="every session, most recently updated first")
    listing.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print a JSON array"
    )
    global_options(listing, suppress=True)

    show = actions.add_parser("show", help="print one conversation as Markdown")
    show.add_argument("ref", metavar="ID")
    global_options(show, suppress=True)

    search = actions.add_parser(
        "search", help="sessions whose title or messages contain every word of TEXT"
    )
    search.add_argument("text", nargs="+", metavar="TEXT")
    search.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print a JSON array"
    )
    search.add_argument(
        "--limit", type=int, default=200, metavar="N", help="at most N results (default 200)"
    )
    global_options(search, suppress=True)

    export = actions.add_parser("export", help="write a session as Markdown, JSON or TOML")
    export.add_argument("ref", metavar="ID")
    export.add_argument(
        "--format",
        dest="export_format",
        choices=("md", "json", "toml"),
        default="md",
        help="md (default): Markdown with a front-matter header; json/toml: a session file",
    )
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    global_options(export, suppress=True)


def _mcp_parser(commands: Subcommands) -> None:
    """``glmtui mcp list|import``: the MCP servers of the config, from the shell."""
    mcp = commands.add_parser(
        "mcp",
        prog="glmtui mcp",  # not derived from the usage lines: "Run 'glmtui mcp --help'"
        usage="glmtui mcp [list] [--json] [options]\n"
        "       glmtui mcp import FILE [--replace] [options]",
        help="list the configured MCP servers and their tools, or import servers",
        description=(
            "MCP servers give the model tools ([mcp.servers.NAME] in the config). With no "
            "action, lists them: each enabled server is started, its tools shown (or why it "
            "failed, with the end of its stderr), then stopped. Exits 1 when a server failed."
        ),
    )
    mcp.add_argument("--json", action="store_true", help="print JSON instead of text")
    global_options(mcp, suppress=True)
    actions = mcp.add_subparsers(dest="mcp_command", metavar="ACTION")

    listing = actions.add_parser(
        "list", prog="glmtui mcp list", help="start each server, show its tools, stop it"
    )
    listing.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print a JSON array"
    )
    global_options(listing, suppress=True)

    imports = actions.add_parser(
        "import",
        prog="glmtui mcp import",
        help="add the servers of an mcpServers JSON file to the config",
        description=(
            "Add the servers of a JSON file in the shape Claude Desktop, Cursor and VS Code "
            'use ({"mcpServers": {NAME: {"command": ..., "args": [...], "env": {...}} or '
            '{"url": ..., "headers": {...}}}}) to the config file.'
        ),
    )
    imports.add_argument("file", metavar="FILE", help="the JSON file")
    imports.add_argument(
        "--replace", action="store_true", help="overwrite servers of the same name"
    )
    global_options(imports, suppress=True)
