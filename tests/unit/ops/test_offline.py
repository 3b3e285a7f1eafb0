"""`--offline` (ops/offline.py): the tags the cache has seen stand in for a registry's
tag list, and a Context that is offline makes no registry client at all."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from mcpkg.cache import Cache
from mcpkg.config import Config
from mcpkg.errors import ConfigError
from mcpkg.ops.context import Context
from mcpkg.ops.offline import cached_digest, cached_tags
from mcpkg.reference import Digest, Reference


def digest(n: int) -> Digest:
    return Digest.parse("sha256:" + f"{n:064x}")


def test_cached_tags_are_per_repository_and_the_latest_use_wins(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    cache.record(digest(1), digest(11), digest(21), 10, "127.0.0.1:5000/acme/tools:1.0.0")
    cache.record(digest(2), digest(12), digest(22), 10, "127.0.0.1:5000/acme/tools:1.1.0")
    cache.record(digest(3), digest(13), digest(23), 10, "127.0.0.1:5000/acme/other:9.0.0")
    cache.record(digest(4), digest(14), digest(24), 10, "127.0.0.1:5001/acme/tools:2.0.0")  # another registry
    time.sleep(0.01)
    cache.record(digest(5), digest(15), digest(25), 10, "127.0.0.1:5000/acme/tools:1.1.0")  # the tag moved
    tags = cached_tags(cache, Reference.parse("127.0.0.1:5000/acme/tools"))
    assert tags == {"1.0.0": digest(1), "1.1.0": digest(5)}
    missing = re.escape("--offline, but 127.0.0.1:5000/acme/tools:1.0.0 is not in the cache")
    with pytest.raises(ConfigError, match=missing):
        cached_digest(cache, Reference.parse("127.0.0.1:5000/acme/tools:1.0.0"))  # its manifest blob is not


def test_an_offline_context_never_makes_a_client(tmp_path: Path) -> None:
    ctx = Context(Config(), Cache(tmp_path / "cache"), offline=True)
    with pytest.raises(ConfigError, match=re.escape("--offline, but this needs 127.0.0.1:5000")):
        ctx.client("127.0.0.1:5000")
