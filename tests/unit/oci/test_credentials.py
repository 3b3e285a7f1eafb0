"""Where credentials come from (mcpkg/oci/credentials.py): the environment, Docker's
config.json `auths` in every spelling Docker tools use, helpers; and that a password
never shows in a repr."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from mcpkg.errors import ConfigError
from mcpkg.oci.credentials import Credentials, helper_for, lookup_credentials, read_docker_config


@pytest.fixture
def docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("MCPKG_REGISTRY_USERNAME", raising=False)
    monkeypatch.delenv("MCPKG_REGISTRY_PASSWORD", raising=False)
    return tmp_path / "config.json"


def auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("key", ["reg.io:5000", "https://reg.io:5000", "http://reg.io:5000", "https://reg.io:5000/v1/"])
def test_auths_in_every_spelling(docker: Path, key: str) -> None:
    docker.write_text(json.dumps({"auths": {key: {"auth": auth("ann", "pa:ss")}}}))
    found = lookup_credentials("reg.io:5000")
    assert found is not None and (found.username, found.password) == ("ann", "pa:ss")
    assert lookup_credentials("other.io") is None


def test_the_environment_comes_first(docker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docker.write_text(json.dumps({"auths": {"reg.io": {"auth": auth("ann", "x")}}}))
    monkeypatch.setenv("MCPKG_REGISTRY_USERNAME", "ci")
    monkeypatch.setenv("MCPKG_REGISTRY_PASSWORD", "token")
    found = lookup_credentials("reg.io")
    assert found is not None and found.username == "ci"


def test_plain_username_and_password_fields(docker: Path) -> None:
    docker.write_text(json.dumps({"auths": {"reg.io": {"username": "u", "password": "p"}}}))
    found = lookup_credentials("reg.io")
    assert found is not None and (found.username, found.password) == ("u", "p")


@pytest.mark.parametrize("entry", [{"auth": "%%%not-base64"}, {"auth": base64.b64encode(b"no-colon").decode()}])
def test_broken_auths_entries_are_clear_errors(docker: Path, entry: dict[str, str]) -> None:
    docker.write_text(json.dumps({"auths": {"reg.io": entry}}))
    with pytest.raises(ConfigError, match=r"reg\.io"):
        lookup_credentials("reg.io")


def test_helpers_by_registry_then_store() -> None:
    config = {"credsStore": "desktop", "credHelpers": {"ghcr.io": "gh"}}
    assert helper_for("ghcr.io", config) == "gh"
    assert helper_for("reg.io", config) == "desktop"
    assert helper_for("reg.io", {"credsStore": ""}) is None


def test_unreadable_configs(docker: Path) -> None:
    assert read_docker_config() == {}
    docker.write_text("[]")
    with pytest.raises(ConfigError, match="not a JSON object"):
        read_docker_config()
    docker.write_text("{broken")
    with pytest.raises(ConfigError, match="cannot read Docker config"):
        read_docker_config()


def test_a_password_never_shows_in_a_repr() -> None:
    creds = Credentials("ann", "s3cret-pass")
    assert "s3cret-pass" not in repr(creds) and "s3cret-pass" not in str(creds)
    assert creds.basic_header() == "Basic " + auth("ann", "s3cret-pass")
