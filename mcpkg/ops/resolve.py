"""From what the user typed to a concrete reference (tag or digest).

A package name (`ns:name[@req]`) is mapped through the config; a reference with neither
tag nor digest resolves to the highest non-pre-release semver tag over every page of the
tag list (`latest` only when no semver tag exists); a requirement picks the highest
matching version.
"""

from __future__ import annotations

from mcpkg.config import Config
from mcpkg.errors import NotFoundError, UsageError
from mcpkg.infile import refuse_path
from mcpkg.ops.context import Context
from mcpkg.reference import PackageName, Reference
from mcpkg.semver import Requirement, highest_tag, sort_tags


def parse_target(text: str, config: Config, command: str = "pull") -> tuple[Reference, Requirement | None]:
    """What `mcpkg COMMAND REF` names: a package name through the config, else an OCI
    reference; a text written as a file path is refused, saying so."""
    instead = (
        "a local file needs no pulling: `mcpkg inspect FILE` reads it"
        if command in ("pull", "inspect")
        else "publish it first (`mcpkg push FILE REF`), then name its REF"
    )
    refuse_path(text, command, instead)
    package = PackageName.try_parse(text)
    if package is not None:
        return config.package_reference(package), package.requirement
    return config.parse_reference(text), None


def choose_tag(tags: list[str], requirement: Requirement | None) -> str | None:
    tag = highest_tag(tags, requirement)
    if tag is None and requirement is None and "latest" in tags:
        return "latest"
    return tag


def resolve_reference(ctx: Context, ref: Reference, requirement: Requirement | None) -> Reference:
    if ref.digest is not None or ref.tag is not None:
        return ref
    tags = ctx.client(ref.registry).list_tags(ref.repository)
    tag = choose_tag(tags, requirement)
    if tag is None:
        wanted = f"matching {requirement}" if requirement else "that is a release version"
        shown = ", ".join(sort_tags(t for t in tags if not t.startswith("sha256-"))[-10:]) or "none"
        raise NotFoundError(
            f"no tag of {ref.location} {wanted} (tags: {shown})",
            "name a tag explicitly (REF:TAG) or loosen the version requirement",
        )
    return ref.with_tag(tag)


def repository_tags(ctx: Context, text: str, *, include_signatures: bool = False) -> tuple[str, list[str]]:
    """`mcpkg tags`: every tag of a repository (all pages), semver-sorted; cosign's
    `sha256-...` signature tags only when asked."""
    ref, requirement = parse_target(text, ctx.config, "tags")
    if ref.tag or ref.digest or requirement:
        raise UsageError(f"`tags` takes a repository, not {text}", f"try: mcpkg tags {ref.location}")
    tags = ctx.client(ref.registry).list_tags(ref.repository)
    return ref.location, sort_tags(t for t in tags if include_signatures or not t.startswith("sha256-"))
