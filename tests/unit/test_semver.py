from __future__ import annotations

import pytest

from mcpkg.errors import UsageError
from mcpkg.semver import Requirement, Version, highest_tag, sort_tags


@pytest.mark.parametrize(
    ("requirement", "version", "expected"),
    [
        ("1.2.3", "1.2.3", True),
        ("1.2.3", "1.9.0", True),
        ("1.2.3", "2.0.0", False),
        ("1.2.3", "1.2.2", False),
        ("^1.2.3", "1.99.99", True),
        ("^0.3", "0.3.0", True),
        ("^0.3", "0.3.9", True),
        ("^0.3", "0.4.0", False),
        ("^0.0.3", "0.0.3", True),
        ("^0.0.3", "0.0.4", False),
        ("^0", "0.9.9", True),
        ("^0", "1.0.0", False),
        ("0.1", "0.1.7", True),
        ("0.1", "0.2.0", False),
        ("~1.2", "1.2.9", True),
        ("~1.2", "1.3.0", False),
        ("~1.2.3", "1.2.2", False),
        ("~1", "1.9.0", True),
        ("~1", "2.0.0", False),
        ("=1.2.3", "1.2.3", True),
        ("=1.2.3", "1.2.4", False),
        ("=1.2", "1.2.7", True),
        (">=1.0, <2.0", "1.5.0", True),
        (">=1.0, <2.0", "2.0.0", False),
        (">1.2", "1.2.9", False),
        (">1.2", "1.3.0", True),
        ("<=1.2", "1.2.9", True),
        ("<=1.2", "1.3.0", False),
        ("*", "7.0.0", True),
        ("1.*", "1.4.0", True),
        ("1.*", "2.0.0", False),
        ("1.2.*", "1.2.5", True),
        # pre-releases only when the requirement names one of the same version
        ("^1.2.0", "1.3.0-rc.1", False),
        ("^1.2.0-rc.1", "1.2.0-rc.2", True),
        ("^1.2.0-rc.1", "1.2.0", True),
        ("^1.2.0-rc.1", "1.3.0-rc.1", False),
        ("*", "1.0.0-alpha", False),
        ("=1.0.0-alpha", "1.0.0-alpha", True),
    ],
)
def test_requirement_matches(requirement: str, version: str, expected: bool) -> None:
    assert Requirement.parse(requirement).matches(Version.parse(version)) is expected


@pytest.mark.parametrize("bad", ["", "abc", "1.2.3.4", ">=*", "1.*.3", "^1-rc", ">= 1.0, nope"])
def test_bad_requirements_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError):
        Requirement.parse(bad)


def test_version_ordering_follows_semver() -> None:
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.10.0",
        "2.0.0",
    ]
    versions = [Version.parse(v) for v in ordered]
    assert sorted(reversed(versions)) == versions


@pytest.mark.parametrize("text", ["v1.2.3", "1.2.3", "0.0.0", "1.0.0+build.5"])
def test_version_parse_accepts(text: str) -> None:
    assert Version.try_parse(text) is not None


@pytest.mark.parametrize("text", ["1.2", "01.2.3", "1.2.3-01", "latest", "sha256-abc.sig", "1.2.3-"])
def test_version_parse_rejects(text: str) -> None:
    assert Version.try_parse(text) is None


def test_sort_tags_puts_semver_first_in_version_order() -> None:
    assert sort_tags(["latest", "0.10.0", "v0.2.0", "0.9.1", "dev", "0.10.0-rc.1"]) == [
        "v0.2.0",
        "0.9.1",
        "0.10.0-rc.1",
        "0.10.0",
        "dev",
        "latest",
    ]


@pytest.mark.parametrize(
    ("tags", "requirement", "expected"),
    [
        (["0.1.0", "0.10.0", "0.9.0", "1.0.0-rc.1"], None, "0.10.0"),
        (["0.1.0", "0.2.0", "0.2.5", "1.0.0"], "^0.2", "0.2.5"),
        (["latest", "dev"], None, None),
        (["v1.0.0", "1.1.0"], None, "1.1.0"),
        (["1.0.0-rc.1"], "^1.0.0-rc.1", "1.0.0-rc.1"),
    ],
)
def test_highest_tag(tags: list[str], requirement: str | None, expected: str | None) -> None:
    req = Requirement.parse(requirement) if requirement else None
    assert highest_tag(tags, req) == expected
