"""A plain, serializable model of a component's imports and exports (pure: no wasmtime).

Types are JSON values so the model can be cached by digest and compared without
wasmtime. A value type is a dict with a `k` (kind) key:

    {"k": "string"} and the other primitives (bool, s8..u64, f32, f64, char)
    {"k": "list", "of": T}            {"k": "option", "of": T}
    {"k": "tuple", "of": [T, ...]}    {"k": "result", "ok": T|None, "err": T|None}
    {"k": "record", "fields": [[name, T], ...]}
    {"k": "variant", "cases": [[name, T|None], ...]}
    {"k": "enum", "names": [...]}     {"k": "flags", "names": [...]}
    {"k": "own"|"borrow", "resource": {"interface": "wasi:io/streams@0.2.9", "name": "output-stream"}}
    {"k": "future"|"stream", "of": T|None}, {"k": "error-context"}

Resources are identified by (defining interface, name), never by wasmtime object
identity (two components' resources never compare equal inside wasmtime). An item is:

    {"kind": "instance", "functions": {name: F}, "resources": [names defined here],
     "uses": [{"interface", "name", "as"?}: resources of other interfaces, or another
              name ("as") for a resource, e.g. `type headers = fields`], "types": {name: T}}
    {"kind": "func", ...F}     F = {"params": [[name, T], ...], "result": T|None}
    {"kind": "component"|"module"|"resource"|"type"}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Type = dict[str, Any]
Item = dict[str, Any]

PRIMITIVES = ("bool", "s8", "s16", "s32", "s64", "u8", "u16", "u32", "u64", "f32", "f64", "char", "string")

_VERSIONED = re.compile(r"^(?P<base>[^@]+)@(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)(?P<rest>[-+].*)?$")


@dataclass(frozen=True)
class ComponentModel:
    imports: dict[str, Item]
    exports: dict[str, Item]

    def to_json(self) -> dict[str, Any]:
        return {"imports": self.imports, "exports": self.exports}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ComponentModel:
        return cls(dict(data["imports"]), dict(data["exports"]))

    @property
    def import_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.imports))

    @property
    def export_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.exports))


def semver_key(name: str) -> str:
    """The key under which semver-compatible names unify: `wasi:io/streams@0.2.3` and
    `@0.2.8` both give `wasi:io/streams@0.2`; `x@1.4.0` gives `x@1`; unversioned and
    pre-release names are their own key."""
    match = _VERSIONED.match(name)
    if not match or match["rest"]:
        return name
    major, minor = int(match["major"]), int(match["minor"])
    if major > 0:
        return f"{match['base']}@{major}"
    if minor > 0:
        return f"{match['base']}@0.{minor}"
    return name


def version_of(name: str) -> tuple[int, int, int] | None:
    match = _VERSIONED.match(name)
    if not match:
        return None
    return int(match["major"]), int(match["minor"]), int(match["patch"])


def interface_base(name: str) -> str:
    """`wasi:io/streams@0.2.9` -> `wasi:io/streams`."""
    return name.split("@", 1)[0]


# `wasi:` packages that are MCP contracts, not host interfaces: a component's use of them
# decides its role and is type-checked like any contract's
CONTRACT_WASI = ("wasi:mcp",)


def is_wasi(name: str) -> bool:
    """A WASI host interface (`wasi:io/streams@0.2.9`): the host's, never a role's. The
    wasi-mcp proposal's `wasi:mcp` is a contract, not the host's plain WASI."""
    return name.startswith("wasi:") and name.split("/", 1)[0].split("@", 1)[0] not in CONTRACT_WASI


def render_type(t: Type | None, names: dict[str, str] | None = None) -> str:
    """WIT-like text of a type; `names` maps a type's canonical text to a declared name."""
    if t is None:
        return "_"
    names = names or {}
    k = t["k"]
    if k in PRIMITIVES or k == "error-context":
        return str(k)
    if k in ("own", "borrow"):
        resource = t["resource"]["name"]
        return resource if k == "own" else f"borrow<{resource}>"
    if k in ("list", "option"):
        return f"{k}<{render_type(t['of'], names)}>"
    if k in ("future", "stream"):
        return k if t.get("of") is None else f"{k}<{render_type(t['of'], names)}>"
    if k == "tuple":
        return f"tuple<{', '.join(render_type(e, names) for e in t['of'])}>"
    if k == "result":
        ok, err = t.get("ok"), t.get("err")
        if ok is None and err is None:
            return "result"
        if err is None:
            return f"result<{render_type(ok, names)}>"
        return f"result<{render_type(ok, names)}, {render_type(err, names)}>"
    canonical = canonical_text(t)
    if canonical in names:
        return names[canonical]
    return canonical


def canonical_text(t: Type) -> str:
    """A structural, name-free text of a type (used as its identity)."""
    k = t["k"]
    if k == "record":
        return "record { " + ", ".join(f"{n}: {render_type(ft)}" for n, ft in t["fields"]) + " }"
    if k == "variant":
        cases = [n if ct is None else f"{n}({render_type(ct)})" for n, ct in t["cases"]]
        return "variant { " + ", ".join(cases) + " }"
    if k in ("enum", "flags"):
        return f"{k} {{ " + ", ".join(t["names"]) + " }"
    return render_type(t)


def render_func(f: Item, names: dict[str, str] | None = None) -> str:
    params = ", ".join(f"{n}: {render_type(pt, names)}" for n, pt in f["params"])
    result = f.get("result")
    return f"func({params})" + (f" -> {render_type(result, names)}" if result is not None else "")


def types_equal(a: Type | None, b: Type | None) -> bool:
    """Structural equality; handles compare by resource identity, with semver-compatible
    interface versions unified (`wasi:io/streams@0.2.3` == `@0.2.9`)."""
    if a is None or b is None:
        return a is None and b is None
    if a["k"] != b["k"]:
        return False
    k = a["k"]
    if k in ("own", "borrow"):
        ra, rb = a["resource"], b["resource"]
        return bool(ra["name"] == rb["name"] and semver_key(ra["interface"]) == semver_key(rb["interface"]))
    if k in ("list", "option", "future", "stream"):
        return types_equal(a.get("of"), b.get("of"))
    if k == "tuple":
        return len(a["of"]) == len(b["of"]) and all(types_equal(x, y) for x, y in zip(a["of"], b["of"], strict=True))
    if k == "result":
        return types_equal(a.get("ok"), b.get("ok")) and types_equal(a.get("err"), b.get("err"))
    if k == "record":
        return len(a["fields"]) == len(b["fields"]) and all(
            na == nb and types_equal(ta, tb) for (na, ta), (nb, tb) in zip(a["fields"], b["fields"], strict=True)
        )
    if k == "variant":
        return len(a["cases"]) == len(b["cases"]) and all(
            na == nb and types_equal(ta, tb) for (na, ta), (nb, tb) in zip(a["cases"], b["cases"], strict=True)
        )
    if k in ("enum", "flags"):
        return bool(a["names"] == b["names"])
    return True
