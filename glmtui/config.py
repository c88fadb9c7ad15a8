"""Typed settings: defaults < config file < environment < command line.

The config file is TOML (``glmtui config path`` prints where). Every setting is declared once in
:data:`SETTINGS` with its type, default and a sentence of documentation; validation, the error
messages and the config reference (``docs/configuration.md``) all come from that one table.

Provider profiles (``[providers.NAME]``) bundle a base URL, a model, the environment variable
holding the key and how the provider takes a thinking on/off switch. The built-in ``oxen``
profile is the default; its URL and model are the top-level ``base_url`` and ``model``.
"""

from __future__ import annotations

import math
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlparse, urlsplit

from glmtui import paths
from glmtui.api.request import THINKING_STYLES
from glmtui.domain import Parameters
from glmtui.domain.params import NO_LIMITS, ParameterLimits, parse_limits

if TYPE_CHECKING:
    from glmtui.tools.settings import McpConfig

DEFAULT_BASE_URL = "https://hub.oxen.ai/api/ai"
DEFAULT_MODEL = "zai-org-glm-5"
DEFAULT_THEME = "glmtui"
"""The bundled theme designed for glmtui (``themes/glmtui.toml``), also the fallback."""
HOSTED_KEY_HOSTS = ("hub.oxen.ai", "api.z.ai", "open.bigmodel.cn")
"""Hosts that always need a key; for anything else (a local vLLM) a key is optional."""


class ConfigError(Exception):
    """A setting is invalid. The message names the source, the key and what is allowed."""


def _shown(name: str) -> str:
    """A key or table name from the file as a message shows it.

    A name holding control or other unprintable characters (a TOML key may hold anything) is
    shown escaped, as a Python literal, so an error message never carries a terminal escape
    sequence to the screen.
    """
    return name if name.isprintable() else repr(name)


def _quoted(name: str) -> str:
    """A key or table name from the file, quoted for a message: ``'model'``."""
    return f"'{name}'" if name.isprintable() else repr(name)


# --- declarations --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Setting:
    """One documented setting: the single source for validation and the docs reference."""

    key: str
    kind: str
    """``str``, ``url``, ``bool``, ``int``, ``float`` or ``choice``."""
    default: Any
    doc: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    env: str | None = None
    """The environment variable that overrides the file, if any."""

    def allowed(self) -> str:
        """What values are allowed, in words."""
        if self.kind == "choice":
            return "one of " + ", ".join(f'"{c}"' for c in self.choices)
        if self.kind == "url":
            return "an http:// or https:// URL"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "limits":
            return "a table: NAME = [min, max], max_stop = N, unsupported = [NAME, …]"
        if self.kind in ("int", "float"):
            noun = "a whole number" if self.kind == "int" else "a number"
            if self.minimum is not None and self.maximum is not None:
                return f"{noun} from {self.minimum:g} to {self.maximum:g}"
            if self.minimum is not None:
                return f"{noun} ≥ {self.minimum:g}"
            return noun
        return "a string"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "provider",
        "str",
        "oxen",
        "Which provider profile to use (see [providers.NAME]); built in: oxen, vllm, sglang, zai.",
        env="GLMTUI_PROVIDER",
    ),
    Setting(
        "base_url",
        "url",
        DEFAULT_BASE_URL,
        "API root of the oxen profile (chat is POST {base_url}/chat/completions).",
        env="GLMTUI_BASE_URL",
    ),
    Setting("model", "str", DEFAULT_MODEL, "Model id of the oxen profile.", env="GLMTUI_MODEL"),
    Setting(
        "api_key",
        "str",
        "",
        "Key for the oxen profile when OXEN_API_KEY is unset. The file is kept at mode 0600.",
    ),
    Setting(
        "session_format",
        "choice",
        "toml",
        "File format for new sessions; both formats are always readable.",
        choices=("toml", "json"),
    ),
    Setting(
        "theme",
        "str",
        DEFAULT_THEME,
        "Theme name: a bundled theme, one of yours (`<config dir>/themes/*.toml`) or a Textual "
        "theme. Ctrl+P → Theme picks one with a preview and saves it here.",
        env="GLMTUI_THEME",
    ),
    Setting(
        "show_reasoning", "bool", True, "Show GLM's reasoning above each answer (collapsible)."
    ),
    Setting(
        "cursor_blink",
        "bool",
        True,
        "Blink the text cursor in the composer and every input field.",
    ),
    Setting(
        "vi_keys",
        "bool",
        False,
        "In the conversation, vi keys besides j / k: g / G first / last message, / find, "
        "n / N next / previous match. Other keys are remapped in [keymap] (docs/keys.md).",
    ),
    Setting(
        "clipboard",
        "choice",
        "auto",
        "How copies reach the clipboard: auto = the terminal (OSC 52) and a local tool if one "
        "is found (wl-copy, xclip, xsel, pbcopy, clip.exe); osc52 = the terminal only; "
        "command = the local tool only.",
        choices=("auto", "osc52", "command"),
    ),
    Setting(
        "clipboard_command",
        "str",
        "",
        'The local clipboard tool, reading the text on stdin (e.g. "xclip -selection '
        'clipboard"); empty = find a known one.',
    ),
    Setting("system_prompt", "str", "", "System prompt for new sessions."),
    Setting(
        "timeout",
        "float",
        120.0,
        "Seconds of silence from the server before a request fails (read timeout).",
        minimum=1,
    ),
    Setting("connect_timeout", "float", 10.0, "Seconds to wait for a connection.", minimum=0.1),
    Setting(
        "max_retries",
        "int",
        3,
        "Retries for 408/429/5xx and connection errors before the first token.",
        minimum=0,
        maximum=10,
    ),
    Setting(
        "demo_pace",
        "float",
        60.0,
        "Tokens per second of the offline demo's replies (0 = instant).",
        minimum=0,
    ),
)
"""Every top-level setting."""

PARAMETER_SETTINGS: tuple[Setting, ...] = (
    Setting("temperature", "float", None, "Sampling temperature.", minimum=0, maximum=2),
    Setting("top_p", "float", None, "Nucleus sampling mass.", minimum=0, maximum=1),
    Setting("max_tokens", "int", None, "Most tokens to generate.", minimum=1),
    Setting("frequency_penalty", "float", None, "Frequency penalty.", minimum=-2, maximum=2),
    Setting("presence_penalty", "float", None, "Presence penalty.", minimum=-2, maximum=2),
    Setting("seed", "int", None, "Sampling seed."),
    Setting("reasoning", "bool", None, "Thinking on/off (for profiles with a thinking switch)."),
    Setting(
        "reasoning_effort",
        "str",
        None,
        'Thinking effort level (e.g. "high", "max"), sent only to a model that takes levels.',
    ),
    Setting(
        "json_mode",
        "bool",
        None,
        'Ask for one JSON object as the reply (response_format {"type": "json_object"}).',
    ),
    Setting("stream", "bool", None, "Stream replies as they are written (default true)."),
)
"""Keys of the ``[parameters]`` table (plus ``stop``, a list of strings). Unset = not sent."""

PROVIDER_SETTINGS: tuple[Setting, ...] = (
    Setting("base_url", "url", None, "API root, e.g. http://gpu-box:8000/v1."),
    Setting("model", "str", None, "Model id to use with this provider."),
    Setting("api_key_env", "str", None, "Environment variable holding the key."),
    Setting("api_key", "str", None, "The key itself, when no variable is set."),
    Setting(
        "thinking",
        "choice",
        "none",
        "How the provider takes a thinking on/off switch.",
        choices=tuple(THINKING_STYLES),
    ),
    Setting(
        "api_key_required",
        "bool",
        None,
        "Refuse to send without a key (default: only for hosted APIs).",
    ),
    Setting(
        "context_length",
        "int",
        None,
        "The model's context window in tokens, for a server that does not report it "
        "(e.g. llama.cpp started with -c 8192); wins over what glmtui knows or assumes.",
        minimum=1,
    ),
    Setting(
        "resend_reasoning",
        "bool",
        None,
        "Send the reasoning of each tool-calling step back inside a tool loop "
        "(interleaved thinking, as z.ai asks).",
    ),
    Setting(
        "tool_stream",
        "bool",
        None,
        "Ask for tool-call arguments to be streamed (z.ai's tool_stream) when tools are offered.",
    ),
    Setting(
        "limits",
        "limits",
        None,
        "What the server takes, where it takes less than OpenAI's API: ranges, the most stop "
        "sequences, parameters it does not take (zai has them built in); replaces the built-in "
        "limits.",
    ),
    Setting(
        "json_mode",
        "bool",
        None,
        'Whether the server takes response_format {"type": "json_object"} (default true).',
    ),
)
"""Keys of a ``[providers.NAME]`` table."""

ZAI_LIMITS = ParameterLimits(
    ranges={"temperature": (0.0, 1.0), "top_p": (0.01, 1.0)},
    max_stop=1,
    unsupported=frozenset({"frequency_penalty", "presence_penalty", "seed"}),
    provider="zai",
)
"""z.ai's chat-completions reference: temperature 0–1, top_p 0.01–1, "only one stop word is
supported", and no frequency_penalty, presence_penalty or seed among its parameters."""

KB = 1024
"""Bytes in the KB the ``[attachments]`` limits are given in."""

ATTACHMENT_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "max_file_kb",
        "int",
        512,
        "Largest text file that can be attached, in KB (a folder leaves larger ones out and "
        "says so).",
        minimum=1,
    ),
    Setting(
        "max_binary_kb",
        "int",
        20480,
        "Largest image or PDF that can be attached, in KB; also the most that one message's "
        "images and PDFs may hold together.",
        minimum=1,
    ),
    Setting(
        "max_message_kb",
        "int",
        2048,
        "Most text one message may attach, all its text files together, in KB (GLM-5's "
        "context holds about 800 KB of text).",
        minimum=1,
    ),
    Setting(
        "max_folder_files",
        "int",
        200,
        "Most text files an attached folder may hold (after .gitignore and hidden folders).",
        minimum=1,
    ),
)
"""Keys of the ``[attachments]`` table: what a prompt may carry. A file or folder over a limit
is refused with a message naming the key, never silently cut."""


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    """The ``[attachments]`` table in bytes, as :mod:`glmtui.chat.attachments` enforces it.

    Defined here (not beside the readers) because the settings hold it, and the config layer
    sits below the services that read files.
    """

    max_file_bytes: int = 512 * KB
    """Largest text file."""
    max_binary_bytes: int = 20480 * KB
    """Largest image or PDF, and the most one message's images and PDFs hold together."""
    max_message_bytes: int = 2048 * KB
    """Most text (UTF-8 bytes) of one message's text attachments together."""
    max_folder_files: int = 200
    """Most text files one attached folder may hold."""


COMPACTION_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "keep",
        "int",
        2,
        "Exchanges (a prompt and what answered it) a compaction keeps whole after the summary; "
        "/compact N keeps N once.",
        minimum=0,
        maximum=1000,
    ),
    Setting(
        "auto_at",
        "float",
        0.0,
        "Compact first when a send's request would fill more than this share of the model's "
        "context window (e.g. 0.8); 0 = never.",
        minimum=0,
        maximum=1,
    ),
    Setting(
        "instruction",
        "str",
        "",
        "What the model is asked to do with the messages it summarises (empty: glmtui's own).",
    ),
)
"""Keys of the ``[compaction]`` table (see :mod:`glmtui.chat.compaction`)."""


@dataclass(frozen=True, slots=True)
class CompactionSettings:
    """The ``[compaction]`` table: how much a compaction keeps, and when it runs by itself.

    Defined here, not beside the compaction code, because the settings hold it and the config
    layer sits below the services.
    """

    keep: int = 2
    """Exchanges kept whole after the summary (the newest ones)."""
    auto_at: float = 0.0
    """Share of the context window above which a send compacts first; 0: never."""
    instruction: str = ""
    """The summarisation instruction ("": :data:`glmtui.chat.compaction.INSTRUCTION`)."""


@dataclass(frozen=True, slots=True)
class ProviderProfile:
    """A named endpoint: where to send, what model, which key and how to switch thinking."""

    name: str
    base_url: str
    model: str
    api_key_env: str = "OXEN_API_KEY"
    api_key: str = field(default="", repr=False)
    thinking: str = "none"
    api_key_required: bool | None = None
    context_length: int | None = None
    """Set by the user for a server that does not report its context window."""
    resend_reasoning: bool = False
    """Resend each tool-calling step's reasoning inside a tool loop (z.ai interleaved thinking)."""
    tool_stream: bool = False
    """Send ``tool_stream: true`` when tools are offered (z.ai streams arguments only then)."""
    limits: ParameterLimits = NO_LIMITS
    """What the server takes, where it takes less than OpenAI's API (built in for z.ai, or the
    profile's ``limits`` table); the sidebar, ``ask`` and the request builder keep to it."""
    json_mode: bool | None = None
    """Whether the server takes JSON mode (None: yes, as the built-in profiles' servers do)."""

    @property
    def takes_json_mode(self) -> bool:
        """True unless the profile says the server does not take ``response_format``."""
        return self.json_mode is not False

    def key_required(self, base_url: str) -> bool:
        """Whether requests to ``base_url`` need a key (hosted APIs do; a local vLLM not)."""
        if self.api_key_required is not None:
            return self.api_key_required
        return (urlparse(base_url).hostname or "") in HOSTED_KEY_HOSTS


BUILTIN_PROVIDERS: dict[str, ProviderProfile] = {
    "oxen": ProviderProfile("oxen", DEFAULT_BASE_URL, DEFAULT_MODEL, "OXEN_API_KEY"),
    "vllm": ProviderProfile(
        "vllm",
        "http://localhost:8000/v1",
        "zai-org/GLM-5-FP8",
        "VLLM_API_KEY",
        thinking="chat_template_kwargs",
    ),
    "sglang": ProviderProfile(
        "sglang",
        "http://localhost:30000/v1",
        "zai-org/GLM-5-FP8",
        "SGLANG_API_KEY",
        thinking="chat_template_kwargs",
    ),
    "zai": ProviderProfile(
        "zai",
        "https://api.z.ai/api/paas/v4",
        "glm-5",
        "ZAI_API_KEY",
        thinking="thinking_type",
        resend_reasoning=True,
        tool_stream=True,
        limits=ZAI_LIMITS,
    ),
}
"""Profiles that exist without any config; a ``[providers.NAME]`` table overrides their keys."""


@dataclass(frozen=True, slots=True)
class Settings:
    """The resolved settings for one run. ``api_key`` is never printed (``repr=False``)."""

    provider: ProviderProfile = BUILTIN_PROVIDERS["oxen"]
    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    api_key: str = field(default="", repr=False)
    api_key_source: str = ""
    """Where the key came from, in words (``OXEN_API_KEY``, ``config file`` …); "" if none."""
    session_format: str = "toml"
    theme: str = DEFAULT_THEME
    show_reasoning: bool = True
    cursor_blink: bool = True
    vi_keys: bool = False
    """vi navigation in the conversation (g, G, /, n, N besides j, k)."""
    keymap: Mapping[str, object] = field(default_factory=dict)
    """The ``[keymap]`` table as written: binding id → keys. Checked by the UI (which knows
    the bindings), which keeps the defaults for entries it cannot use."""
    clipboard: str = "auto"
    """``auto``, ``osc52`` or ``command`` (see :mod:`glmtui.ui.clipboard`)."""
    clipboard_command: str = ""
    system_prompt: str = ""
    timeout: float = 120.0
    connect_timeout: float = 10.0
    max_retries: int = 3
    demo_pace: float = 60.0
    demo: bool = False
    parameters: Parameters = field(default_factory=Parameters)
    providers: Mapping[str, ProviderProfile] = field(default_factory=lambda: BUILTIN_PROVIDERS)
    config_path: Path = field(default_factory=paths.default_config_file)
    data_dir: Path = field(default_factory=paths.data_dir)
    warnings: tuple[str, ...] = ()
    """Problems worth saying once that do not stop glmtui (a key in a file others can read)."""
    mcp: McpConfig = field(default_factory=lambda: _no_mcp())
    """The ``[mcp]`` table: MCP servers to start and the tool loop's limits."""
    attachments: AttachmentLimits = field(default_factory=AttachmentLimits)
    """The ``[attachments]`` table: how large attached files may be."""
    compaction: CompactionSettings = field(default_factory=CompactionSettings)
    """The ``[compaction]`` table: what a compaction keeps, and when it runs by itself."""

    @property
    def key_required(self) -> bool:
        """True when the endpoint needs a key and none was found (and this is not the demo)."""
        return not self.demo and not self.api_key and self.provider.key_required(self.base_url)

    @property
    def thinking_style(self) -> str:
        """How the active provider takes the thinking switch."""
        return self.provider.thinking


@dataclass(frozen=True, slots=True)
class Overrides:
    """Values from the command line; None means "not given"."""

    base_url: str | None = None
    model: str | None = None
    provider: str | None = None
    theme: str | None = None
    demo: bool = False


# --- validation ----------------------------------------------------------------------------


NAMES = ("provider", "model", "theme")
"""Settings that name something shown on screen: never empty, never a control character (an
escape sequence in a theme name once retitled the terminal window)."""


def check_value(setting: Setting, value: Any, where: str) -> Any:
    """Validate and normalise one value, or raise :class:`ConfigError` naming ``where``."""

    def fail() -> ConfigError:
        return ConfigError(
            f"{where}: '{setting.key}' must be {setting.allowed()} (got {_got(setting, value)})."
        )

    kind = setting.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise fail()
        return value
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail()
        if isinstance(value, float) and not math.isfinite(value):
            raise fail()  # TOML has nan and inf; no setting means anything by them
        if kind == "int" and not isinstance(value, int):
            if float(value).is_integer():
                value = int(value)
            else:
                raise fail()
        if setting.minimum is not None and value < setting.minimum:
            raise fail()
        if setting.maximum is not None and value > setting.maximum:
            raise fail()
        return float(value) if kind == "float" else value
    if kind == "limits":
        try:
            return parse_limits(value)
        except ValueError as exc:
            raise ConfigError(f"{where}: '{setting.key}': {exc}.") from None
    if not isinstance(value, str):
        raise fail()
    if kind == "choice" and value not in setting.choices:
        raise fail()
    if kind == "url":
        problem = url_problem(value)
        if problem is not None:
            raise ConfigError(f"{where}: '{setting.key}' {problem} (got {_got(setting, value)}).")
        return value.rstrip("/")
    if kind == "str" and setting.key in NAMES:
        if not value.strip():
            raise ConfigError(f"{where}: '{setting.key}' must not be empty.")
        if not value.isprintable():
            raise ConfigError(
                f"{where}: '{setting.key}' must not contain control characters "
                f"(got {_got(setting, value)})."
            )
    return value


_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f]")
"""Spaces and control characters: never part of a URL (CR/LF would split an HTTP request)."""


def url_problem(value: str) -> str | None:
    """What is wrong with ``value`` as an API root, in words; None when it is usable.

    Checked wherever a URL enters (flag, environment, config, provider profile), so a bad one
    is one line at start, never a traceback from the HTTP library later. A user name or
    password in the URL is refused: httpx would send it as Basic auth in place of the key.
    """
    if _URL_UNSAFE.search(value):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    try:
        port = parts.port
    except ValueError:
        port = 0
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host name"
    if "@" in parts.netloc:
        return (
            "must not hold a user name or password (put the key in the provider's key "
            "variable or 'api_key')"
        )
    if port == 0:
        return "has an invalid port (use 1–65535)"
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        return "must not have a query (?…) or fragment (#…)"
    return None


def shown_url(value: str) -> str:
    """A URL as a message may show it: any user name or password replaced by ``***``."""
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or "@" not in parts.netloc:
        if "@" in value:  # unparsable, but may still hold credentials: hide up to the '@'
            scheme, sep, rest = value.partition("://")
            return f"{scheme}{sep}***@{rest.rpartition('@')[2]}" if sep else "***"
        return value
    host = parts.netloc.rpartition("@")[2]
    return SplitResult(
        parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment
    ).geturl()


_GOT_LIMIT = 60
"""Longest rendering of a wrong value in a message (a whole pasted document helps no one)."""


def _got(setting: Setting, value: Any) -> str:
    """A wrong value as an error message shows it: escaped, shortened, and never a key."""
    if setting.key == "api_key":
        return f"a {type(value).__name__} value, not shown"
    if setting.kind == "url" and isinstance(value, str):
        value = shown_url(value)
    text = repr(value)
    return text if len(text) <= _GOT_LIMIT else text[: _GOT_LIMIT - 1] + "…"


def _check_table(
    table: Mapping[str, Any], settings: tuple[Setting, ...], where: str, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    known = {s.key: s for s in settings}
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key in extra:
            continue
        setting = known.get(key)
        if setting is None:
            allowed = ", ".join(sorted([*known, *extra]))
            raise ConfigError(f"{where}: unknown setting {_quoted(key)}. Allowed: {allowed}.")
        out[key] = check_value(setting, value, where)
    return out


def parse_parameters(table: Any, where: str) -> Parameters:
    """Validate a ``[parameters]`` table into :class:`Parameters`."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: 'parameters' must be a table, e.g. [parameters].")
    values = _check_table(table, PARAMETER_SETTINGS, f"{where} [parameters]", extra=("stop",))
    stop = table.get("stop")
    if stop is not None:
        if isinstance(stop, str):
            stop = [stop]
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise ConfigError(
                f"{where} [parameters]: 'stop' must be a string or a list of strings "
                f"(got {stop!r})."
            )
        values["stop"] = tuple(stop)
    return Parameters(**values)


def _parse_providers(table: Any, where: str) -> dict[str, ProviderProfile]:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: 'providers' must hold tables, e.g. [providers.vllm].")
    profiles = dict(BUILTIN_PROVIDERS)
    for name, body in table.items():
        shown = _shown(name)
        if not name.isprintable() or not name.strip():
            raise ConfigError(
                f"{where}: [providers.{shown}]: a provider's name must be printable text."
            )
        if not isinstance(body, Mapping):
            raise ConfigError(f"{where}: [providers.{shown}] must be a table.")
        values = _check_table(body, PROVIDER_SETTINGS, f"{where} [providers.{shown}]")
        if "limits" in values:  # the reasons it gives name the profile
            values["limits"] = replace(values["limits"], provider=name)
        base = profiles.get(name)
        if base is None:
            if "base_url" not in values:
                raise ConfigError(
                    f"{where} [providers.{shown}]: 'base_url' is required for a new provider."
                )
            base = ProviderProfile(
                name, values["base_url"], DEFAULT_MODEL, api_key_env="", thinking="none"
            )
        profiles[name] = replace(base, **values)
    return profiles


MAX_CONFIG_SIZE = 1024 * 1024
"""A config file is a few KB; one larger than this is refused rather than read into memory."""


def read_config_file(path: Path) -> dict[str, Any]:
    """The raw TOML of the config file, or {} if there is none.

    A UTF-8 byte order mark (some Windows editors write one) is ignored. Only a regular file
    of at most :data:`MAX_CONFIG_SIZE` is read: ``--config /dev/zero`` would read forever and a
    FIFO would wait for a writer.

    Raises:
        ConfigError: the file cannot be read, is not a regular file, is too large, or is not
            valid TOML (nesting too deep for the parser included).
    """
    try:
        # O_NONBLOCK: opening a FIFO does not wait for a writer; it is refused below.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror}).") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise ConfigError(f"{path}: cannot read the config file (it is {what}).")
    with os.fdopen(fd, "rb") as file:
        if info.st_size > MAX_CONFIG_SIZE:
            raise ConfigError(
                f"{path}: the config file is {info.st_size:,} bytes; "
                f"a config file is at most {MAX_CONFIG_SIZE:,}."
            )
        try:
            data = file.read(MAX_CONFIG_SIZE + 1)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the config file ({exc.strerror}).") from None
    if len(data) > MAX_CONFIG_SIZE:  # grew while being read
        raise ConfigError(f"{path}: the config file is larger than {MAX_CONFIG_SIZE:,} bytes.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the config file is not UTF-8 text.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}).") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML (nested too deeply).") from None


def exposed_key_warning(path: Path, raw: Mapping[str, Any]) -> str | None:
    """A warning when the config file holds a key and other users may read it, else None."""
    providers = raw.get("providers")
    holds_key = bool(raw.get("api_key")) or (
        isinstance(providers, Mapping)
        and any(isinstance(p, Mapping) and p.get("api_key") for p in providers.values())
    )
    if not holds_key:
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return (
        f"{path} holds an API key and other users can read it (mode {mode:04o}); "
        f"make it private with: chmod 600 {path}"
    )


# --- resolution ----------------------------------------------------------------------------


def load_settings(
    overrides: Overrides | None = None,
    *,
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings from defaults, the config file, the environment and the command line.

    Raises:
        ConfigError: a value anywhere is invalid; the message names where and what is allowed.
    """
    overrides = overrides or Overrides()
    env = os.environ if environ is None else environ
    path = config_path or paths.default_config_file()
    raw = read_config_file(path)
    where = str(path)

    special = ("parameters", "providers", "mcp", "attachments", "compaction", "keymap")
    top = _check_table(raw, SETTINGS, where, extra=special)
    parameters = parse_parameters(raw.get("parameters", {}), where)
    providers = _parse_providers(raw.get("providers", {}), where)
    mcp = _parse_mcp(raw["mcp"], where) if "mcp" in raw else _no_mcp()
    attachments = parse_attachments(raw.get("attachments", {}), where)
    compaction = _parse_compaction(raw.get("compaction", {}), where)
    keymap = raw.get("keymap", {})
    warnings = [exposed_key_warning(path, raw)]
    if not isinstance(keymap, Mapping):
        # Never fatal: a keymap problem leaves the default keys, and says so.
        warnings.append(
            f'{where}: \'keymap\' must be a table, e.g. [keymap] "chat.send" = "ctrl+s";'
            " the default keys are used."
        )
        keymap = {}

    values: dict[str, Any] = {s.key: s.default for s in SETTINGS}
    values.update(top)
    for setting in SETTINGS:
        if setting.env and env.get(setting.env):
            values[setting.key] = check_value(setting, env[setting.env], setting.env)
    cli = {
        "base_url": overrides.base_url,
        "model": overrides.model,
        "provider": overrides.provider,
        "theme": overrides.theme,
    }
    for key, value in cli.items():
        if value is not None:
            setting = next(s for s in SETTINGS if s.key == key)
            values[key] = check_value(setting, value, "--" + key.replace("_", "-"))

    # The oxen profile takes the top-level base_url/model/api_key.
    providers["oxen"] = replace(
        providers["oxen"],
        base_url=top.get("base_url", providers["oxen"].base_url),
        model=top.get("model", providers["oxen"].model),
        api_key=top.get("api_key", "") or providers["oxen"].api_key,
    )
    name = values["provider"]
    if name not in providers:
        raise ConfigError(
            f"provider {_quoted(name)} is not defined. "
            f"Known: {', '.join(_shown(n) for n in sorted(providers))}; "
            f"add a [providers.{_shown(name)}] table to {where}."
        )
    profile = providers[name]

    # Environment and command line override the active profile's URL and model.
    base_url, model = profile.base_url, profile.model
    if overrides.base_url or env.get("GLMTUI_BASE_URL"):
        base_url = values["base_url"]
    if overrides.model or env.get("GLMTUI_MODEL"):
        model = values["model"]

    api_key, source = resolve_api_key(profile, base_url, env)
    data_dir = Path(env["GLMTUI_DATA_DIR"]).expanduser() if env.get("GLMTUI_DATA_DIR") else None
    return Settings(
        provider=profile,
        base_url=base_url,
        model=model,
        api_key=api_key,
        api_key_source=source,
        session_format=values["session_format"],
        theme=values["theme"],
        show_reasoning=values["show_reasoning"],
        cursor_blink=values["cursor_blink"],
        vi_keys=values["vi_keys"],
        keymap=dict(keymap),
        clipboard=values["clipboard"],
        clipboard_command=values["clipboard_command"],
        system_prompt=values["system_prompt"],
        timeout=values["timeout"],
        connect_timeout=values["connect_timeout"],
        max_retries=values["max_retries"],
        demo_pace=values["demo_pace"],
        demo=overrides.demo,
        parameters=parameters,
        providers=providers,
        config_path=path,
        data_dir=data_dir or paths.data_dir(),
        warnings=tuple(w for w in warnings if w),
        mcp=mcp,
        attachments=attachments,
        compaction=compaction,
    )


def config_line(path: Path, key: str, table: str = "keymap") -> int | None:
    """The line (from 1) of the file at ``path`` that sets ``key`` in ``[table]``, if found.

    ``tomllib`` keeps no positions, so the text is scanned: a line inside the table whose key
    (bare or quoted) is ``key``. Used to point at the line of a problem the UI finds later.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    pattern = re.compile(r"""\s*(?:"KEY"|'KEY'|KEY)\s*=""".replace("KEY", re.escape(key)))
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[([^\[\]]+)\]\s*(?:#.*)?$", line)
        if header:
            inside = header.group(1).strip() == table
        elif inside and pattern.match(line):
            return number
    return None


def _parse_compaction(table: Any, where: str) -> CompactionSettings:
    """Validate a ``[compaction]`` table into :class:`CompactionSettings`."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: 'compaction' must be a table, e.g. [compaction].")
    return CompactionSettings(**_check_table(table, COMPACTION_SETTINGS, f"{where} [compaction]"))


def parse_attachments(table: Any, where: str) -> AttachmentLimits:
    """Validate an ``[attachments]`` table (sizes in KB) into :class:`AttachmentLimits`."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: 'attachments' must be a table, e.g. [attachments].")
    values = _check_table(table, ATTACHMENT_SETTINGS, f"{where} [attachments]")
    defaults = {s.key: s.default for s in ATTACHMENT_SETTINGS}
    chosen = {**defaults, **values}
    return AttachmentLimits(
        max_file_bytes=chosen["max_file_kb"] * KB,
        max_binary_bytes=chosen["max_binary_kb"] * KB,
        max_message_bytes=chosen["max_message_kb"] * KB,
        max_folder_files=chosen["max_folder_files"],
    )


def _parse_mcp(table: Any, where: str) -> McpConfig:
    """The ``[mcp]`` table; its parser (:mod:`glmtui.tools.config`) is imported only for a file
    that has one, so a config without MCP servers costs nothing at startup."""
    from glmtui.tools.config import parse_mcp

    return parse_mcp(table, where)


def _no_mcp() -> McpConfig:
    """No MCP servers: the config of a file without an ``[mcp]`` table."""
    from glmtui.tools.settings import McpConfig

    return McpConfig()


def resolve_api_key(
    profile: ProviderProfile, base_url: str, environ: Mapping[str, str]
) -> tuple[str, str]:
    """The key and where it came from: the profile's variable, the config, or (for an
    oxen.ai host only) the oxen CLI's login."""
    if profile.api_key_env and environ.get(profile.api_key_env, "").strip():
        return environ[profile.api_key_env].strip(), profile.api_key_env
    if profile.api_key:
        return profile.api_key, "config file"
    host = (urlparse(base_url).hostname or "").lower()
    # The oxen CLI's login is for Oxen's servers: the oxen profile pointed at another host
    # (--base-url http://127.0.0.1:8000/v1) must not send it there.
    if host == "oxen.ai" or host.endswith(".oxen.ai"):
        token = oxen_cli_token(host)
        if token:
            return token, "oxen CLI login"
    return "", ""


def oxen_cli_token(host: str, auth_file: Path | None = None) -> str:
    """The oxen CLI's token for ``host`` (falls back to hub.oxen.ai), or "" if none.

    A missing or unreadable file is not an error: it is only the last place we look.
    """
    path = auth_file or paths.oxen_auth_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ""
    configs = data.get("host_configs")
    if not isinstance(configs, list):
        return ""
    tokens = {
        str(c.get("host", "")): str(c.get("auth_token", ""))
        for c in configs
        if isinstance(c, dict) and c.get("auth_token")
    }
    return tokens.get(host) or tokens.get("hub.oxen.ai") or ""


# --- writing -------------------------------------------------------------------------------


def update_config_file(path: Path, changes: Mapping[str, Any]) -> None:
    """Set top-level keys in the config file, creating it (mode 0600) if needed.

    The file may hold a key, so it is written atomically and never readable by others.

    Raises:
        ConfigError: the existing file is invalid, or it cannot be written.
    """
    import tomli_w

    from glmtui.fileio import atomic_write_text

    data = read_config_file(path)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    try:
        atomic_write_text(path, tomli_w.dumps(data), mode=0o600)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the config file ({exc.strerror}).") from None


def save_api_key(path: Path, provider: str, key: str) -> None:
    """Store a key for ``provider`` in the config file (mode 0600).

    The oxen profile's key is the top-level ``api_key``; others go in ``[providers.NAME]``.

    Raises:
        ConfigError: the file is invalid or cannot be written.
    """
    if provider == "oxen":
        update_config_file(path, {"api_key": key})
        return
    providers = read_config_file(path).get("providers") or {}
    if not isinstance(providers, Mapping):
        raise ConfigError(f"{path}: 'providers' must hold tables, e.g. [providers.vllm].")
    table = providers.get(provider) or {}
    if not isinstance(table, Mapping):
        raise ConfigError(f"{path}: [providers.{_shown(provider)}] must be a table.")
    providers, table = dict(providers), dict(table)
    table["api_key"] = key
    providers[provider] = table
    update_config_file(path, {"providers": providers})


def config_reference() -> str:
    """The config reference table of ``docs/configuration.md``, made from the declarations."""
    lines = ["| Setting | Default | Allowed | Environment | Meaning |", "|---|---|---|---|---|"]

    def row(prefix: str, s: Setting) -> str:
        default = "unset" if s.default is None else repr(s.default).replace("'", '"')
        if isinstance(s.default, bool):
            default = str(s.default).lower()
        return (
            f"| `{prefix}{s.key}` | `{default}` | {s.allowed()} | "
            f"{'`' + s.env + '`' if s.env else ''} | {s.doc} |"
        )

    lines += [row("", s) for s in SETTINGS]
    lines += [row("parameters.", s) for s in PARAMETER_SETTINGS]
    lines.append(
        "| `parameters.stop` | unset | a string or a list of strings |  | Stop sequences. |"
    )
    lines += [row("providers.NAME.", s) for s in PROVIDER_SETTINGS]
    lines += [row("attachments.", s) for s in ATTACHMENT_SETTINGS]
    lines += [row("compaction.", s) for s in COMPACTION_SETTINGS]
    return "\n".join(lines)
