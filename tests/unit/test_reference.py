from __future__ import annotations

import re

import pytest

from mcpkg.config import Config
from mcpkg.errors import UsageError
from mcpkg.ops.resolve import choose_tag, parse_target
from mcpkg.reference import Digest, PackageName, Reference, is_loopback_host

HEX = "a" * 64


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("wasmcp/http-transport", "ghcr.io", "wasmcp/http-transport", None, None),
        ("ghcr.io/wasmcp/http-transport:0.3.0", "ghcr.io", "wasmcp/http-transport", "0.3.0", None),
        ("localhost/foo", "localhost", "foo", None, None),
        ("localhost:5000/a/b:v1", "localhost:5000", "a/b", "v1", None),
        ("127.0.0.1:5000/mcp/x", "127.0.0.1:5000", "mcp/x", None, None),
        (f"reg.example/x@sha256:{HEX}", "reg.example", "x", None, f"sha256:{HEX}"),
        (f"reg.example/x:1.0@sha256:{HEX}", "reg.example", "x", "1.0", f"sha256:{HEX}"),
        ("[::1]:5000/x", "[::1]:5000", "x", None, None),
        ("foo/bar_baz.qux-1", "ghcr.io", "foo/bar_baz.qux-1", None, None),
    ],
)
def test_reference_parse(text: str, registry: str, repository: str, tag: str | None, digest: str | None) -> None:
    ref = Reference.parse(text)
    assert (ref.registry, ref.repository, ref.tag) == (registry, repository, tag)
    assert (str(ref.digest) if ref.digest else None) == digest
    assert Reference.parse(str(ref)) == ref


def test_localhost_ports_are_different_registries() -> None:
    assert Reference.parse("localhost:5000/x").registry != Reference.parse("127.0.0.1:5000/x").registry


@pytest.mark.parametrize(
    "text",
    [
        "",
        "UPPER/case",
        "a//b",
        "x:",
        "x:-bad",
        "reg.io/x@sha256:abc",
        "reg.io/x@md5:" + "a" * 32,
        "has space/x",
        "reg.io:99999/x",
        "reg.io/-x",
        "x:" + "t" * 200,
    ],
)
def test_malformed_references_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        Reference.parse(text)


def test_default_registry_is_configurable() -> None:
    assert Reference.parse("mcp/x", "127.0.0.1:5000").location == "127.0.0.1:5000/mcp/x"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("127.0.0.1:80", True),
        ("127.9.8.7", True),
        ("[::1]:5000", True),
        ("localhost.evil.com", False),
        ("127.0.0.1.nip.io", False),
        ("ghcr.io", False),
        ("10.0.0.1:5000", False),
        ("[::2]:1", False),
    ],
)
def test_loopback_is_decided_from_the_string(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_package_names_map_through_config() -> None:
    config = Config(default_registry="ghcr.io", namespaces={"mcp": "127.0.0.1:5000/fixtures"})
    ref, req = parse_target("mcp:echo-tools@0.1", config)
    assert ref.location == "127.0.0.1:5000/fixtures/echo-tools"
    assert req is not None and str(req) == "0.1"
    ref, req = parse_target("wasmcp:http-transport", config)
    assert ref.location == "ghcr.io/wasmcp/http-transport" and req is None


def test_package_name_parsing() -> None:
    assert PackageName.try_parse("wasmcp:http-transport@^0.3") is not None
    assert PackageName.try_parse("localhost:5000/x") is None
    assert PackageName.try_parse("Bad:Name") is None
    with pytest.raises(UsageError):
        PackageName.try_parse("ns:name@not-a-version")


def test_digest_parse() -> None:
    assert str(Digest.parse(f"sha256:{HEX}")) == f"sha256:{HEX}"
    with pytest.raises(UsageError):
        Digest.parse("sha256:" + "A" * 64)
    with pytest.raises(UsageError):  # `$` in a regex also matches before a final newline
        Digest.parse(f"sha256:{HEX}\n")


def test_choose_tag_prefers_semver_then_latest() -> None:
    assert choose_tag(["latest", "0.1.0"], None) == "0.1.0"
    assert choose_tag(["latest", "dev"], None) == "latest"
    assert choose_tag(["dev"], None) is None


@pytest.mark.parametrize("text", ["127.0.0.1:38447", "localhost", "localhost:5000", "[::1]:5000", "reg.example:443"])
def test_a_registry_alone_is_not_a_repository(text: str) -> None:
    with pytest.raises(UsageError, match=f"{re.escape(text)} names a registry, not a repository") as raised:
        Reference.parse(text)
    assert raised.value.hint == f"add the repository after it: {text}/<repository>[:tag]"


@pytest.mark.parametrize("text", ["x.wasm", "./x", "../x", "/x", "~/x", "~x"])
def test_a_text_written_as_a_path_is_not_a_reference(text: str) -> None:
    with pytest.raises(UsageError, match="is a file path, but `mcpkg pull` takes a registry reference"):
        parse_target(text, Config())
