"""Version resolution as a pure function of (available tags, requirements, existing lock).

- A digest-pinned component needs no tag.
- An existing lock entry is kept while it still satisfies its requirement and points at
  the same reference, unless its name is being updated: no surprise upgrades.
- Otherwise the highest matching non-pre-release version (pre-releases only when the
  requirement names one); no requirement means the highest release, `latest` only when
  no semver tag exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcpkg.errors import NotFoundError
from mcpkg.semver import Requirement, Version, highest_tag, sort_tags


@dataclass(frozen=True)
class Wanted:
    name: str
    reference: str  # registry/repository
    requirement: Requirement | None
    pinned_digest: str | None = None


@dataclass(frozen=True)
class Locked:
    reference: str
    requirement: str | None
    version: str | None
    digest: str


@dataclass(frozen=True)
class Choice:
    tag: str | None  # None when pinned by digest
    digest: str | None  # known digest (pinned or kept from the lock)
    kept: bool


def needs_tags(wanted: Wanted, locked: Locked | None, update: bool) -> bool:
    return wanted.pinned_digest is None and (update or keep(wanted, locked) is None)


def keep(wanted: Wanted, locked: Locked | None) -> Choice | None:
    if locked is None or locked.reference != wanted.reference or locked.version is None:
        return None
    if (str(wanted.requirement) if wanted.requirement else None) != locked.requirement:
        return None
    version = Version.try_parse(locked.version)
    if wanted.requirement is not None and (version is None or not wanted.requirement.matches(version)):
        return None
    return Choice(locked.version, locked.digest, True)


def choose(wanted: Wanted, tags: list[str] | None, locked: Locked | None, update: bool) -> Choice:
    if wanted.pinned_digest is not None:
        return Choice(None, wanted.pinned_digest, False)
    if not update:
        kept = keep(wanted, locked)
        if kept is not None:
            return kept
    if tags is None:
        raise NotFoundError(
            f"{wanted.name}: {wanted.reference} must be resolved but its tags are unknown (offline?)",
            "run `mcpkg lock` without --offline",
        )
    tag = highest_tag(tags, wanted.requirement)
    if tag is None and wanted.requirement is None and "latest" in tags:
        tag = "latest"
    if tag is None:
        shown = ", ".join(sort_tags(t for t in tags if not t.startswith("sha256-"))[-8:]) or "none"
        wants = f"matching {wanted.requirement}" if wanted.requirement else "that is a release"
        raise NotFoundError(
            f"{wanted.name}: no version of {wanted.reference} {wants} (tags: {shown})",
            f"loosen `version` for [components.{wanted.name}] or publish a matching version",
        )
    return Choice(tag, None, False)
