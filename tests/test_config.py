"""Config precedence (defaults < file < environment < command line), validation and key lookup."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from glmtui.config import (
    DEFAULT_BASE_URL,
    DEFAULT_MODEL,
    ConfigError,
    Overrides,
    config_reference,
    load_settings,
    update_config_file,
)
from glmtui.domain import Parameters


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(config_file: Path) -> None:
    settings = load_settings()
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.model == DEFAULT_MODEL
    assert settings.provider.name == "oxen"
    assert settings.session_format == "toml"
    assert settings.parameters == Parameters()
    assert settings.api_key == ""
    assert settings.key_required


def test_file_overrides_defaults(config_file: Path) -> None:
    write(
        config_file,
        'base_url = "http://127.0.0.1:9999/v1"\nmodel = "m-file"\nsession_format = "json"\n'
        '[parameters]\ntemperature = 0.3\nmax_tokens = 512\nstop = ["END"]\n',
    )
    settings = load_settings()
    assert settings.base_url == "http://127.0.0.1:9999/v1"
    assert settings.model == "m-file"
    assert settings.session_format == "json"
    assert settings.parameters == Parameters(temperature=0.3, max_tokens=512, stop=("END",))


def test_environment_overrides_file(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(config_file, 'base_url = "http://127.0.0.1:1/v1"\nmodel = "m-file"\n')
    monkeypatch.setenv("GLMTUI_BASE_URL", "http://127.0.0.1:2/v1")
    monkeypatch.setenv("GLMTUI_MODEL", "m-env")
    settings = load_settings()
    assert (settings.base_url, settings.model) == ("http://127.0.0.1:2/v1", "m-env")


def test_command_line_overrides_environment(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(config_file, 'model = "m-file"\n')
    monkeypatch.setenv("GLMTUI_BASE_URL", "http://127.0.0.1:2/v1")
    monkeypatch.setenv("GLMTUI_MODEL", "m-env")
    settings = load_settings(Overrides(base_url="http://127.0.0.1:3/v1/", model="m-cli"))
    assert (settings.base_url, settings.model) == ("http://127.0.0.1:3/v1", "m-cli")


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = write(tmp_path / "elsewhere.toml", 'model = "from-elsewhere"\n')
    monkeypatch.setenv("GLMTUI_CONFIG", str(other))
    assert load_settings().model == "from-elsewhere"
    assert load_settings().config_path == other


def test_data_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLMTUI_DATA_DIR", str(tmp_path / "somewhere"))
    assert load_settings().data_dir == tmp_path / "somewhere"


def test_provider_profile_selected_in_file(config_file: Path) -> None:
    write(
        config_file,
        'provider = "gpu"\n[providers.gpu]\nbase_url = "http://10.0.0.5:8000/v1"\n'
        'model = "zai-org/GLM-5-FP8"\napi_key_env = "GPU_KEY"\nthinking = "chat_template_kwargs"\n',
    )
    settings = load_settings()
    assert settings.provider.name == "gpu"
    assert settings.base_url == "http://10.0.0.5:8000/v1"
    assert settings.model == "zai-org/GLM-5-FP8"
    assert settings.thinking_style == "chat_template_kwargs"
    assert not settings.key_required  # self-hosted: a key is optional


def test_builtin_profile_from_command_line(config_file: Path) -> None:
    settings = load_settings(Overrides(provider="vllm"))
    assert settings.base_url == "http://localhost:8000/v1"
    assert settings.thinking_style == "chat_template_kwargs"


def test_profile_key_from_its_variable(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAI_API_KEY", "zai-secret")
    settings = load_settings(Overrides(provider="zai"))
    assert (settings.api_key, settings.api_key_source) == ("zai-secret", "ZAI_API_KEY")


def test_key_precedence_env_then_file_then_oxen_cli(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    auth = isolated_env / "home" / ".config" / "oxen" / "auth_config.toml"
    auth.parent.mkdir(parents=True)
    auth.write_text('host_configs = [{ host = "hub.oxen.ai", auth_token = "from-oxen-cli" }]\n')
    assert load_settings().api_key == "from-oxen-cli"
    assert load_settings().api_key_source == "oxen CLI login"

    write(config_file, 'api_key = "from-file"\n')
    assert load_settings().api_key == "from-file"

    monkeypatch.setenv("OXEN_API_KEY", "from-env")
    assert load_settings().api_key == "from-env"
    assert not load_settings().key_required


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://hub.oxen.ai/api/ai", "from-oxen-cli"),
        ("https://staging.oxen.ai/api/ai", "from-oxen-cli"),
        ("http://127.0.0.1:8000/v1", ""),
        ("https://oxen.ai.evil.example/v1", ""),
        ("https://notoxen.ai/v1", ""),
    ],
)
def test_the_oxen_cli_login_goes_only_to_oxen_hosts(
    config_file: Path, isolated_env: Path, base_url: str, expected: str
) -> None:
    """The oxen profile pointed elsewhere (``--base-url``) once sent the oxen CLI's
    hub.oxen.ai token there."""
    auth = isolated_env / "home" / ".config" / "oxen" / "auth_config.toml"
    auth.parent.mkdir(parents=True)
    auth.write_text('host_configs = [{ host = "hub.oxen.ai", auth_token = "from-oxen-cli" }]\n')
    settings = load_settings(Overrides(base_url=base_url))
    assert settings.api_key == expected


def test_settings_repr_hides_the_key(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OXEN_API_KEY", "sk-very-secret")
    assert "sk-very-secret" not in repr(load_settings())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("temprature = 1\n", "unknown setting 'temprature'"),
        ("model = 3\n", "'model' must be a string (got 3)"),
        ('session_format = "yaml"\n', '\'session_format\' must be one of "toml", "json"'),
        ('base_url = "hub.oxen.ai"\n', "'base_url' must start with http:// or https://"),
        ('show_reasoning = "yes"\n', "'show_reasoning' must be true or false"),
        ("max_retries = -1\n", "'max_retries' must be a whole number from 0 to 10"),
        ("[parameters]\ntemperature = 2.5\n", "'temperature' must be a number from 0 to 2"),
        ("[parameters]\ntop_p = 1.5\n", "'top_p' must be a number from 0 to 1"),
        ("[parameters]\nmax_tokens = 0\n", "'max_tokens' must be a whole number ≥ 1"),
        ("[parameters]\nstop = 3\n", "'stop' must be a string or a list of strings"),
        ('[providers.x]\nmodel = "m"\n', "'base_url' is required for a new provider"),
        ('[providers.vllm]\nthinking = "sometimes"\n', "'thinking' must be one of"),
        ('model = "unterminated\n', "not valid TOML"),
        ('provider = "nowhere"\n', "provider 'nowhere' is not defined"),
    ],
)
def test_invalid_values_name_file_key_and_allowed(
    config_file: Path, text: str, expected: str
) -> None:
    write(config_file, text)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert expected in message
    if "provider 'nowhere'" not in expected:
        assert str(config_file) in message


def test_invalid_environment_value_names_the_variable(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLMTUI_BASE_URL", "not a url")
    with pytest.raises(ConfigError, match="GLMTUI_BASE_URL: 'base_url' must not contain spaces"):
        load_settings()


def test_update_config_file_creates_private_file(config_file: Path) -> None:
    write(config_file, 'model = "kept"\n')
    config_file.chmod(0o644)
    update_config_file(config_file, {"api_key": "sk-new"})
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    settings = load_settings()
    assert (settings.model, settings.api_key) == ("kept", "sk-new")


def test_reference_documents_every_setting() -> None:
    from glmtui.config import PARAMETER_SETTINGS, PROVIDER_SETTINGS, SETTINGS

    reference = config_reference()
    for setting in SETTINGS:
        assert f"`{setting.key}`" in reference
    for setting in PARAMETER_SETTINGS:
        assert f"`parameters.{setting.key}`" in reference
    for setting in PROVIDER_SETTINGS:
        assert f"`providers.NAME.{setting.key}`" in reference


def test_readme_holds_the_current_reference() -> None:
    page = (Path(__file__).parent.parent / "docs" / "configuration.md").read_text("utf-8")
    assert config_reference() in page, "paste into docs/configuration.md: glmtui config reference"


def test_readme_holds_the_current_key_reference() -> None:
    from glmtui.ui.keys import keys_markdown

    page = (Path(__file__).parent.parent / "docs" / "keys.md").read_text(encoding="utf-8")
    assert keys_markdown() in page, "update docs/keys.md from glmtui.ui.keys.keys_markdown()"
