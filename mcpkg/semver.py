"""Semantic versions and cargo-style version requirements (pure, no I/O).

Versions follow semver 2.0 with an optional leading `v` (tags such as `v1.2.0` are
versions). Requirements follow cargo: `1.2.3` and `^1.2.3` mean `>=1.2.3,<2.0.0`,
`^0.3` means `>=0.3.0,<0.4.0`, `~1.2` means `>=1.2.0,<1.3.0`, `=1.2.3` is exact,
`*` or `1.*` are wildcards, and comma-separated comparators all have to hold.
A pre-release version only matches a requirement with a comparator that names a
pre-release of the same major.minor.patch (cargo's rule).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import total_ordering

from mcpkg.errors import UsageError

_NUM = r"0|[1-9]\d*"
_IDENT = r"[0-9A-Za-z-]+"
_VERSION_RE = re.compile(
    rf"^v?(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>{_IDENT}(?:\.{_IDENT})*))?(?:\+(?P<build>{_IDENT}(?:\.{_IDENT})*))?$"
)


@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    pre: tuple[str, ...] = ()
    build: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse a semver string (leading `v` allowed); raise UsageError if it is not one."""
        version = cls.try_parse(text)
        if version is None:
            raise UsageError(f"{text!r} is not a semantic version", "write it as MAJOR.MINOR.PATCH, e.g. 1.2.0")
        return version

    @classmethod
    def try_parse(cls, text: str) -> Version | None:
        match = _VERSION_RE.match(text)
        if not match:
            return None
        pre = tuple(match["pre"].split(".")) if match["pre"] else ()
        if any(p.isdigit() and len(p) > 1 and p.startswith("0") for p in pre):
            return None
        build = tuple(match["build"].split(".")) if match["build"] else ()
        return cls(int(match["major"]), int(match["minor"]), int(match["patch"]), pre, build)

    @property
    def is_prerelease(self) -> bool:
        return bool(self.pre)

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        # A release sorts after all of its pre-releases; numeric identifiers sort before
        # alphanumeric ones and compare numerically (semver 2.0, section 11).
        pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre_key)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            text += "-" + ".".join(self.pre)
        if self.build:
            text += "+" + ".".join(self.build)
        return text


_COMPARATOR_RE = re.compile(
    r"^(?P<op>\^|~|=|>=|<=|>|<)?\s*v?(?P<major>\d+|\*|x|X)"
    r"(?:\.(?P<minor>\d+|\*|x|X))?(?:\.(?P<patch>\d+|\*|x|X))?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


@dataclass(frozen=True)
class _Comparator:
    op: str
    major: int | None
    minor: int | None
    patch: int | None
    pre: tuple[str, ...]

    def _lower_upper(self) -> tuple[Version | None, bool, Version | None]:
        """(lower bound inclusive, upper bound) of a caret/tilde/exact/wildcard range."""
        major, minor, patch = self.major, self.minor, self.patch
        if major is None:
            return None, True, None
        low = Version(major, minor or 0, patch or 0, self.pre)
        if self.op == "~":
            if minor is None:
                return low, True, Version(major + 1, 0, 0, ("0",))
            return low, True, Version(major, minor + 1, 0, ("0",))
        if self.op in ("=", "*"):
            if minor is None:
                return low, True, Version(major + 1, 0, 0, ("0",))
            if patch is None:
                return low, True, Version(major, minor + 1, 0, ("0",))
            return low, True, None  # exact: handled in matches
        # caret (also the bare form)
        if major > 0 or minor is None:
            return low, True, Version(major + 1, 0, 0, ("0",))
        if minor > 0 or patch is None:
            return low, True, Version(0, minor + 1, 0, ("0",))
        return low, True, Version(0, 0, patch + 1, ("0",))

    def matches(self, v: Version) -> bool:
        op = self.op
        if self.major is None:
            return True
        full = Version(self.major, self.minor or 0, self.patch or 0, self.pre)
        if op in (">", ">=", "<", "<="):
            if op == ">":
                if self.minor is None:
                    return v >= Version(self.major + 1, 0, 0, ("0",))
                if self.patch is None:
                    return v >= Version(self.major, self.minor + 1, 0, ("0",))
                return v > full
            if op == ">=":
                return v >= full
            if op == "<":
                return v < full if self.pre else v < Version(full.major, full.minor, full.patch, ("0",))
            # "<="
            if self.minor is None:
                return v < Version(self.major + 1, 0, 0, ("0",))
            if self.patch is None:
                return v < Version(self.major, self.minor + 1, 0, ("0",))
            return v <= full
        if op == "=" and self.minor is not None and self.patch is not None:
            return (v.major, v.minor, v.patch, v.pre) == (full.major, full.minor, full.patch, full.pre)
        low, _, high = self._lower_upper()
        if low is not None and v < low:
            return False
        return not (high is not None and v >= high)


@dataclass(frozen=True)
class Requirement:
    """A cargo-style version requirement. `Requirement.parse("*")` matches everything."""

    text: str
    comparators: tuple[_Comparator, ...]

    @classmethod
    def parse(cls, text: str) -> Requirement:
        stripped = text.strip()
        if not stripped:
            raise UsageError("empty version requirement", "write e.g. ^0.1 or >=1.2, <2")
        comparators = []
        for part in stripped.split(","):
            comparators.append(_parse_comparator(part.strip(), text))
        return cls(stripped, tuple(comparators))

    def matches(self, version: Version) -> bool:
        if version.is_prerelease and not any(
            c.pre and (c.major, c.minor or 0, c.patch or 0) == (version.major, version.minor, version.patch)
            for c in self.comparators
        ):
            return False
        return all(c.matches(version) for c in self.comparators)

    def best(self, candidates: Iterable[Version]) -> Version | None:
        """The highest candidate that matches (pre-releases only when asked for)."""
        matching = [v for v in candidates if self.matches(v)]
        return max(matching) if matching else None

    def __str__(self) -> str:
        return self.text


ANY = Requirement("*", (_Comparator("*", None, None, None, ()),))


def _parse_comparator(part: str, whole: str) -> _Comparator:
    match = _COMPARATOR_RE.match(part)
    if not match:
        raise UsageError(
            f"{whole!r} is not a valid version requirement",
            "use cargo syntax: 1.2.3, ^1.2, ~1.2, =1.2.3, >=1.0, <2.0, 1.*, comma-separated",
        )
    op = match["op"] or "^"

    def num(value: str | None) -> int | None:
        return None if value is None or value in ("*", "x", "X") else int(value)

    major, minor, patch = num(match["major"]), num(match["minor"]), num(match["patch"])
    wildcard = any(match[k] in ("*", "x", "X") for k in ("major", "minor", "patch"))
    if wildcard:
        if match["op"] not in (None, "="):
            raise UsageError(f"{whole!r}: a wildcard cannot follow an operator", "write e.g. 1.*")
        if (major is None and minor is not None) or (minor is None and patch is not None):
            raise UsageError(f"{whole!r}: nothing can follow a wildcard", "write e.g. 1.*")
        op = "*"
    pre = tuple(match["pre"].split(".")) if match["pre"] else ()
    if pre and (minor is None or patch is None):
        raise UsageError(f"{whole!r}: a pre-release needs a full version", "write e.g. ^1.2.0-rc.1")
    return _Comparator(op, major, minor, patch, pre)


def sort_tags(tags: Iterable[str]) -> list[str]:
    """Semver tags in ascending version order, then the other tags in lexical order."""
    versions: list[tuple[Version, str]] = []
    others: list[str] = []
    for tag in tags:
        version = Version.try_parse(tag)
        if version is None:
            others.append(tag)
        else:
            versions.append((version, tag))
    versions.sort(key=lambda pair: (pair[0], pair[1]))
    return [tag for _, tag in versions] + sorted(others)


def highest_tag(tags: Iterable[str], requirement: Requirement | None = None) -> str | None:
    """The tag naming the highest version that satisfies `requirement` (default: any
    non-pre-release)."""
    req = requirement or ANY
    best: tuple[Version, str] | None = None
    for tag in tags:
        version = Version.try_parse(tag)
        if version is None or not req.matches(version):
            continue
        if best is None or version > best[0] or (version == best[0] and tag < best[1]):
            best = (version, tag)
    return best[1] if best else None
