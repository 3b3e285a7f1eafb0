"""The trust policy (mcpkg/signing/policy.py): every matching scope applies, the strictest wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpkg.config import TrustScope
from mcpkg.signing.policy import policy_for, scope_matches


@pytest.mark.parametrize(
    ("pattern", "location", "matches"),
    [
        ("ghcr.io/wasmcp/*", "ghcr.io/wasmcp/http-transport", True),
        ("ghcr.io/wasmcp/*", "ghcr.io/other/x", False),
        ("ghcr.io/*", "ghcr.io/a/b", True),
        ("ghcr.io/wasmcp/*", "evil.io/wasmcp/x", False),
        ("127.0.0.1:5000/mcp/*", "127.0.0.1:5000/mcp/tools", True),
        ("127.0.0.1:5000/mcp/*", "localhost:5000/mcp/tools", False),
        ("reg.io/team/tool", "reg.io/team/tool", True),
        ("reg.io/team/tool", "reg.io/team/tools", False),
    ],
)
def test_scopes(pattern: str, location: str, matches: bool) -> None:
    assert scope_matches(pattern, location) is matches


def test_the_strictest_wins_and_keys_are_the_union() -> None:
    user = (TrustScope("reg.io/*", (Path("/k/user.pub"),), True),)
    project = (TrustScope("reg.io/team/*", (Path("/k/project.pub"), Path("/k/user.pub")), False),)
    policy = policy_for("reg.io/team/tool", user, project)
    assert policy.require is True and policy.applies
    assert policy.keys == (Path("/k/user.pub"), Path("/k/project.pub"))
    assert policy.scopes == ("reg.io/*", "reg.io/team/*")
    assert policy_for("other.io/x", user, project).applies is False
