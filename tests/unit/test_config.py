from __future__ import annotations

from pathlib import Path

import pytest

from mcpkg.config import load_config
from mcpkg.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_missing_config_gives_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "absent.toml")
    assert config.default_registry == "ghcr.io"


def test_full_config(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
default-registry = "127.0.0.1:5000"
[namespaces]
wasmcp = "ghcr.io/wasmcp"
[registries."registry.internal:5000"]
plain-http = true
ca-file = "ca.pem"
[trust."ghcr.io/wasmcp/*"]
keys = ["keys/a.pub"]
require = true
""",
        )
    )
    assert config.default_registry == "127.0.0.1:5000"
    assert config.registry_settings("registry.internal:5000").plain_http
    assert config.registry_settings("registry.internal:5000").ca_file == tmp_path / "ca.pem"
    assert config.trust[0].require and config.trust[0].keys == ((tmp_path / "keys/a.pub").resolve(),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bogus = 1", "unknown key `bogus`"),
        ("default-registry = 5", "`default-registry` must be a str"),
        ('[registries."x.io"]\nplain-http = "yes"', "plain-http` must be a bool"),
        ('[registries."x.io"]\nverify = false', "unknown key"),
        ('[trust."x.io/*"]\nrequire = 1', "require` must be a bool"),
        ("not toml = = =", "not valid TOML"),
        ('default-registry = "Bad Host"', "default-registry"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_a_missing_file_mcpkg_config_names_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCPKG_CONFIG", str(tmp_path / "typo.toml"))
    with pytest.raises(ConfigError, match=r"MCPKG_CONFIG names .*typo\.toml, which does not exist"):
        load_config()
    monkeypatch.setenv("MCPKG_CONFIG", str(write(tmp_path, "")))
    assert load_config().namespaces == {}
