"""The trust policy of a component, and whether it still accepts what a lock recorded:
what `lock --check` needs, offline and light (no registry client, no sigstore)."""

from __future__ import annotations

from collections.abc import Callable

from mcpkg.cache import Cache
from mcpkg.config import Config, TrustScope
from mcpkg.project.lockfile import Lockfile
from mcpkg.reference import Digest
from mcpkg.signing.policy import Policy, policy_for
from mcpkg.signing.recorded import recorded_problem


def component_policy(config: Config, location: str, project_scopes: tuple[TrustScope, ...] = ()) -> Policy:
    return policy_for(location, config.trust, project_scopes, trusted_root=config.sigstore.trusted_root)


def lock_trust_problems(
    config: Config, project_scopes: tuple[TrustScope, ...], cache: Cache
) -> Callable[[Lockfile], list[str]]:
    """For `check_lock`: the components whose recorded signers the policy no longer
    accepts (offline; judged from the records and the cached bundles)."""

    def problems(lock: Lockfile) -> list[str]:
        found = []
        for entry in lock.entries:
            if entry.source != "registry" or entry.reference is None:
                continue
            policy = component_policy(config, entry.reference, project_scopes)
            problem = recorded_problem(
                entry.name,
                policy,
                entry.signatures,
                entry.identities,
                entry.bundles,
                lambda text: cache.read_blob(Digest.parse(text)),
            )
            if problem is not None:
                found.append(problem)
        return found

    return problems
