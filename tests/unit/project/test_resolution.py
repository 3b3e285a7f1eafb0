from __future__ import annotations

import pytest

from mcpkg.errors import NotFoundError
from mcpkg.project.resolution import Locked, Wanted, choose, needs_tags
from mcpkg.semver import Requirement

TAGS = ["0.1.0", "0.1.5", "v0.2.0", "0.2.3", "0.3.0-rc.1", "1.0.0", "1.4.2", "2.0.0-beta", "latest", "sha256-ab.sig"]


def want(req: str | None, digest: str | None = None) -> Wanted:
    return Wanted("c", "reg.io/c", Requirement.parse(req) if req else None, digest)


@pytest.mark.parametrize(
    ("req", "expected"),
    [
        ("^0.1", "0.1.5"),
        ("0.2", "0.2.3"),
        ("~0.2.0", "0.2.3"),
        ("=0.2.0", "v0.2.0"),
        (">=0.1, <0.2.1", "v0.2.0"),
        ("^1", "1.4.2"),
        (None, "1.4.2"),
        ("^0.3.0-rc.1", "0.3.0-rc.1"),
        ("^2.0.0-beta", "2.0.0-beta"),
        ("*", "1.4.2"),
    ],
)
def test_resolution_table(req: str | None, expected: str) -> None:
    assert choose(want(req), TAGS, None, update=False).tag == expected


def test_no_match_is_a_clear_error() -> None:
    with pytest.raises(NotFoundError, match=r"no version of reg.io/c matching \^3"):
        choose(want("^3"), TAGS, None, update=False)


def test_latest_only_without_semver() -> None:
    assert choose(want(None), ["latest", "dev"], None, update=False).tag == "latest"


def test_lock_is_kept_until_update() -> None:
    locked = Locked("reg.io/c", "^1", "1.0.0", "sha256:" + "a" * 64)
    kept = choose(want("^1"), None, locked, update=False)
    assert (kept.tag, kept.digest, kept.kept) == ("1.0.0", locked.digest, True)
    assert not needs_tags(want("^1"), locked, update=False)
    moved = choose(want("^1"), TAGS, locked, update=True)
    assert (moved.tag, moved.digest, moved.kept) == ("1.4.2", None, False)


def test_changed_requirement_or_reference_re_resolves() -> None:
    locked = Locked("reg.io/c", "^1", "1.0.0", "sha256:" + "a" * 64)
    assert needs_tags(want("^0.2"), locked, update=False)
    assert choose(want("^0.2"), TAGS, locked, update=False).tag == "0.2.3"
    other = Locked("reg.io/other", "^1", "1.0.0", "sha256:" + "a" * 64)
    assert needs_tags(want("^1"), other, update=False)


def test_pinned_digest_needs_no_tags() -> None:
    pinned = want(None, "sha256:" + "b" * 64)
    assert not needs_tags(pinned, None, update=True)
    assert choose(pinned, None, None, update=True).digest == "sha256:" + "b" * 64


def test_offline_resolution_without_tags_fails() -> None:
    with pytest.raises(NotFoundError, match="offline"):
        choose(want("^1"), None, None, update=False)
