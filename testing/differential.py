"""The composer against `wasm-tools compose`, on one generated server (`witgen.Case`).

For a case: each world is built into a component (`component embed --dummy` +
`component new`); the server is composed by mcpkg in-process (model, chain check,
encoder: what `mcpkg compose` runs) and by `wasm-tools compose` with a configuration
wiring the same graph. Then:

- mcpkg's output validates with `wasm-tools validate` and with wasmtime, and
  instantiates under wasmtime with every import stubbed (a trap when called);
- composing again, from freshly read type models, gives the same bytes;
- its imports and exports are the reference's (`wasm-tools component wit --json` of
  both, compared structurally: types by structure with aliases followed, resources by the
  interface that defines them) once semver-compatible names are grouped: the reference
  keeps `@0.2.3` and `@0.2.8` as two imports, mcpkg one per group, at the group's highest
  version, holding the union of what the group's members hold.

Where the reference cannot express the case (it exits 101: `wasm-tools compose` panics
when asked to wire a world-level function import to another component's function
export), only the first two checks apply and the outcome is "cannot express".
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mcpkg.cache import Cache, hash_file
from mcpkg.compose.encoder import INTERNAL_TYPE, Part, compose
from mcpkg.errors import IncompatibleError, McpkgError
from mcpkg.wasm.compat import check_chain
from mcpkg.wasm.introspect import component_model
from testing.compose_tool import find_wasm_tools
from testing.witgen import Case, cases

MATCH = "match"
CANNOT_EXPRESS = "cannot express"
REFERENCE_INVALID = "reference output invalid"
REFUSED = "refused by both"  # a type only a component inside defines, in an import or export

_VERSIONED = re.compile(r"^(?P<base>[^@]+)@(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)$")


@dataclass
class Outcome:
    verdict: str  # MATCH | CANNOT_EXPRESS | REFERENCE_INVALID | REFUSED
    detail: str = ""
    facts: dict[str, Any] = field(default_factory=dict)  # what the case held, for coverage counts

    def __str__(self) -> str:
        return f"{self.verdict}: {self.detail}" if self.detail else self.verdict


class Mismatch(AssertionError):
    """mcpkg's output differs from what the reference or the rules say."""


def semver_group(name: str) -> str:
    """The name semver-compatible versions share (written here, not taken from mcpkg):
    `x@0.2.3` -> `x@0.2`, `x@1.4.0` -> `x@1`, `x@0.0.3` and unversioned names alone."""
    match = _VERSIONED.match(name)
    if not match:
        return name
    major, minor = int(match["major"]), int(match["minor"])
    if major:
        return f"{match['base']}@{major}"
    return f"{match['base']}@0.{minor}" if minor else name


def _version(name: str) -> tuple[int, ...]:
    match = _VERSIONED.match(name)
    return (int(match["major"]), int(match["minor"]), int(match["patch"])) if match else ()


def _last_error(stderr: str) -> str:
    """The innermost cause `wasm-tools` gave, with numbers and names made generic (so
    that the outcomes of a run group by kind)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and "deprecated" not in line]
    lines = [line for line in lines if not line.startswith(("Please use", "WARNING", "note:", "stack backtrace:"))]
    error = next((line for line in reversed(lines) if not line.startswith("(at offset")), "no message")
    error = re.sub(r"`[^`]*`", "`_`", error)
    return re.sub(r"\d+", "N", error.removeprefix("error: "))


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


# --- the world of a component, normalized ---------------------------------------------


class _Resolve:
    """`wasm-tools component wit --json` of a component, read structurally."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.types: list[dict[str, Any]] = doc["types"]

    def interface_name(self, index: int) -> str:
        iface = self.doc["interfaces"][index]
        package = self.doc["packages"][iface["package"]]["name"]
        base, _, version = package.partition("@")
        return f"{base}/{iface['name']}" + (f"@{version}" if version else "")

    def resource(self, index: int) -> tuple[str, str]:
        t = self.types[index]
        while isinstance(t["kind"], dict) and "type" in t["kind"]:
            t = self.types[t["kind"]["type"]]
        owner = t.get("owner") or {}
        where = semver_group(self.interface_name(owner["interface"])) if "interface" in owner else "(world)"
        return where, str(t["name"])

    def type(self, ref: str | int | None) -> Any:
        if ref is None or isinstance(ref, str):
            return ref
        kind = self.types[ref]["kind"]
        if kind == "resource":
            return ["resource", *self.resource(ref)]
        (tag, body), *_ = kind.items()
        if tag == "type":
            return self.type(body)
        if tag == "handle":
            (handle, target), *_ = body.items()
            return [handle, *self.resource(target)]
        if tag == "record":
            return ["record", [[f["name"], self.type(f["type"])] for f in body["fields"]]]
        if tag == "variant":
            return ["variant", [[c["name"], self.type(c.get("type"))] for c in body["cases"]]]
        if tag in ("enum", "flags"):
            return [tag, [c["name"] for c in body["cases" if tag == "enum" else "flags"]]]
        if tag in ("list", "option"):
            return [tag, self.type(body)]
        if tag == "tuple":
            return ["tuple", [self.type(t) for t in body["types"]]]
        if tag == "result":
            return ["result", self.type(body.get("ok")), self.type(body.get("err"))]
        return [tag, json.dumps(body)]

    def function(self, f: dict[str, Any]) -> Any:
        return ["func", [[p["name"], self.type(p["type"])] for p in f["params"]], self.type(f.get("result"))]

    def item(self, key: str, value: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """(name, {member: normalized}) of one world import or export."""
        if "interface" in value:
            index = value["interface"]["id"]
            iface = self.doc["interfaces"][index]
            members = {f"type {n}": self.type(t) for n, t in iface["types"].items()}
            members.update({f"func {n}": self.function(f) for n, f in iface["functions"].items()})
            return self.interface_name(index), members
        if "function" in value:
            return key, {"func": self.function(value["function"])}
        return key, {"type": self.type(value["type"])}

    def world(self) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        (world,) = self.doc["worlds"]
        imports = dict(self.item(k, v) for k, v in world["imports"].items())
        exports = dict(self.item(k, v) for k, v in world["exports"].items())
        return imports, exports


def world_of(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    doc = json.loads(_run(find_wasm_tools(), "component", "wit", "--json", str(path)).stdout)
    return _Resolve(doc).world()


def _grouped(items: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """Items merged by semver group (member by member), and each group's names."""
    merged: dict[str, dict[str, Any]] = {}
    names: dict[str, list[str]] = {}
    for name, members in items.items():
        group = semver_group(name)
        names.setdefault(group, []).append(name)
        into = merged.setdefault(group, {})
        for member, value in members.items():
            if into.setdefault(member, value) != value:
                raise Mismatch(f"the reference's {name} declares {member} unlike another version: {value}")
    return merged, names


def compare_worlds(side: str, reference: dict[str, dict[str, Any]], ours: dict[str, dict[str, Any]]) -> None:
    """`ours` (mcpkg) must hold one name per semver group of `reference`, the highest, with
    the union of the group's members."""
    expected, ref_names = _grouped(reference)
    for group, names in ref_names.items():
        highest = max(names, key=_version)
        mine = [n for n in ours if semver_group(n) == group]
        if mine != [highest]:
            raise Mismatch(f"{side} {group}: the reference has {sorted(names)}, mcpkg {sorted(mine)}")
        if ours[highest] != expected[group]:
            differ = sorted(
                m for m in {*ours[highest], *expected[group]} if ours[highest].get(m) != expected[group].get(m)
            )
            detail = "; ".join(
                f"{m}: reference {expected[group].get(m)!r}, mcpkg {ours[highest].get(m)!r}" for m in differ[:4]
            )
            raise Mismatch(f"{side} {highest} differs: {detail}")
    extra = sorted(n for n in ours if semver_group(n) not in ref_names)
    if extra:
        raise Mismatch(f"{side}: mcpkg has {extra}, which the reference has not")


# --- building and composing -------------------------------------------------------------


@dataclass
class Built:
    """A case's components, by label, and the layout of labels."""

    paths: dict[str, Path]
    transport: str
    chain: list[str]
    terminal: str
    services: list[str]


def build(case: Case, directory: Path) -> Built:
    wit = directory / "wit"
    for path, text in case.files.items():
        (wit / path).parent.mkdir(parents=True, exist_ok=True)
        (wit / path).write_text(text)
    tool = find_wasm_tools()
    built: dict[str, Path] = {}
    for world in dict.fromkeys([case.transport, *case.chain, case.terminal, *case.services]):
        core, out = directory / f"{world}.core.wasm", directory / f"{world}.wasm"
        _run(tool, "component", "embed", "--dummy", str(wit), "-w", world, "-o", str(core))
        _run(tool, "component", "new", str(core), "-o", str(out))
        built[world] = out
    labels = {"transport": built[case.transport], "terminal": built[case.terminal]}
    chain = [f"link{i}" for i in range(1, len(case.chain) + 1)]
    labels.update({label: built[world] for label, world in zip(chain, case.chain, strict=True)})
    labels.update({world: built[world] for world in case.services})
    return Built(labels, "transport", chain, "terminal", list(case.services))


def compose_with_mcpkg(built: Built, cache_dir: Path) -> bytes:
    """What `mcpkg compose` does after fetching: models, chain check, encoder."""
    cache = Cache(cache_dir)
    parts: dict[str, Part] = {}
    for label, path in built.paths.items():
        digest, _ = hash_file(path)
        parts[label] = Part(label, path.read_bytes(), component_model(path, digest, cache, label))
    report = check_chain(
        (built.transport, parts[built.transport].model),
        [(label, parts[label].model) for label in built.chain],
        (built.terminal, parts[built.terminal].model),
        [(label, parts[label].model) for label in built.services],
    )
    if not report.ok:
        raise Mismatch("mcpkg's chain check refused: " + "; ".join(str(p) for p in report.problems))
    composition = compose(built.transport, built.chain, built.terminal, built.services, parts, report.wiring.links)
    return b"".join(composition.chunks)


def compose_config(built: Built) -> tuple[dict[str, Any], bool]:
    """The `wasm-tools compose` configuration for the same graph, and whether it wires a
    function (which that tool cannot do). Each label is its own dependency: the tool refuses
    to instantiate one dependency twice when its interface has a resource."""
    imports: dict[str, list[str]] = {}
    exports: dict[str, dict[str, str]] = {}  # label -> export name -> kind
    for label, path in built.paths.items():
        ins, outs = world_of(path)
        imports[label] = list(ins)
        exports[label] = {name: "func" if "func" in members else "other" for name, members in outs.items()}
    (chain_interface,) = (n for n in exports[built.terminal] if ":" in n)
    provider = {name: label for label in built.services for name in exports[label]}
    links = [built.transport, *built.chain, built.terminal]
    names = {built.transport: "root"} | {label: label for label in built.paths if label != built.transport}
    wires_function = False
    instantiations: dict[str, dict[str, Any]] = {}
    for label in [*links, *built.services]:
        arguments: dict[str, dict[str, str]] = {}
        for name in imports[label]:
            if name == chain_interface and label in links[:-1]:
                arguments[name] = {"instance": names[links[links.index(label) + 1]], "export": name}
            elif name in provider and provider[name] != label:
                arguments[name] = {"instance": names[provider[name]], "export": name}
                wires_function = wires_function or exports[provider[name]][name] == "func"
        entry: dict[str, Any] = {"arguments": arguments}
        if label != built.transport:
            entry["dependency"] = label
        instantiations[names[label]] = entry
    dependencies = {label: str(path) for label, path in built.paths.items() if label != built.transport}
    return {"dependencies": dependencies, "instantiations": instantiations}, wires_function


def instantiate_stubbed(data: bytes) -> None:
    """Validate with wasmtime and instantiate with every import a trap."""
    import wasmtime
    import wasmtime.component as wc

    engine = wasmtime.Engine()
    try:
        component = wc.Component(engine, data)
        linker = wc.Linker(engine)
        linker.define_unknown_imports_as_traps(component)
        linker.instantiate(wasmtime.Store(engine), component)
    except wasmtime.WasmtimeError as exc:
        raise Mismatch(f"wasmtime: {' '.join(str(exc).split())}") from exc


def facts_of(case: Case) -> dict[str, Any]:
    """What the case holds, for the coverage figures of a run."""
    text = "\n".join(case.files.values())
    root = case.files["root.wit"]
    worlds = root[root.find("\nworld ") :]
    definitions = re.findall(r"^  (record|variant|enum|flags) [a-z0-9-]+ (\{.*\})$", text, re.M)
    return {
        "chain members": len(case.chain) > 0,
        "same middle twice": len(set(case.chain)) < len(case.chain),
        "services": len(case.services) > 0,
        "resources": "resource " in text,
        "constructors": "constructor(" in text,
        "static functions": ": static func" in text,
        "borrow handles": "borrow<" in text,
        "twins (same structure, two names)": len(definitions) > len(set(definitions)),
        "aliases of named types": bool(re.search(r"type ali\d+ = (rec|var|enu|flg|ali)\d+;", text)),
        "resource aliases": bool(re.search(r"type rz\d+ = ", text)),
        "use across packages": bool(re.search(r"^  use [a-z]+:", text, re.M)),
        "interfaces of types alone": "interface types" in text,
        "host patch versions > 1": len([p for p in case.files if p.startswith("deps/wasi-")]) > 1,
        "world function imports": bool(re.search(r"^  import [a-z0-9-]+: func", worlds, re.M)),
        "world function exports": bool(re.search(r"^  export [a-z0-9-]+: func", worlds, re.M)),
        "world use": bool(re.search(r"^  use ", worlds, re.M)),
        "unversioned root package": not root.startswith("package gen:chain@"),
    }


def check_case(case: Case, directory: Path | None = None) -> Outcome:
    """Run the differential check on `case`; raises `Mismatch` (or another error) on a failure."""
    with tempfile.TemporaryDirectory(prefix="mcpkg-diff-") as tmp:
        work = directory or Path(tmp)
        built = build(case, work)
        facts = facts_of(case)
        tool = find_wasm_tools()
        out = work / "mcpkg.wasm"
        refused: IncompatibleError | None = None
        try:
            ours = compose_with_mcpkg(built, work / "cache-1")
        except IncompatibleError as exc:
            if (exc.details or {}).get("reason") != INTERNAL_TYPE:
                raise Mismatch(f"mcpkg refused: {exc}") from exc
            refused = exc  # no component can express this: the reference must fail too
        except McpkgError as exc:
            raise Mismatch(f"mcpkg refused: {exc}") from exc
        else:
            out.write_bytes(ours)
            if compose_with_mcpkg(built, work / "cache-2") != ours:
                raise Mismatch("composing twice gave different bytes")
            validated = _run(tool, "validate", str(out), check=False)
            if validated.returncode != 0:
                raise Mismatch(f"wasm-tools validate: {validated.stderr.strip()}")
            instantiate_stubbed(ours)
        config, wires_function = compose_config(built)
        (work / "compose.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        reference = work / "reference.wasm"
        composed = _run(
            tool, "compose", str(built.paths[built.transport]), "-c", str(work / "compose.yml"), "-o",
            str(reference), check=False,
        )  # fmt: skip
        if refused is not None:
            if composed.returncode == 0:
                raise Mismatch(f"mcpkg refused what wasm-tools compose composed: {refused}")
            return Outcome(REFUSED, f"{(refused.details or {}).get('type')}; the reference: "
                           f"{_last_error(composed.stderr)}", facts)  # fmt: skip
        if composed.returncode == 101:
            reason = "it panics when asked to wire a function" if wires_function else _last_error(composed.stderr)
            return Outcome(CANNOT_EXPRESS, reason, facts)
        if composed.returncode != 0 and "failed to validate output component" in composed.stderr:
            # the reference wrote a component that does not validate (mcpkg's did, above)
            return Outcome(REFERENCE_INVALID, _last_error(composed.stderr), facts)
        if composed.returncode != 0:
            return Outcome(CANNOT_EXPRESS, "it refuses: " + _last_error(composed.stderr), facts)
        ref_imports, ref_exports = world_of(reference)
        our_imports, our_exports = world_of(out)
        compare_worlds("imports", ref_imports, our_imports)
        compare_worlds("exports", ref_exports, our_exports)
        return Outcome(MATCH, "", facts)


# --- runs -----------------------------------------------------------------------------------


@dataclass
class Failure:
    """The smallest failing case hypothesis found, and what went wrong with it."""

    case: Case
    error: str


def run_cases(seed: int, examples: int, on_outcome: Callable[[Case, Outcome], None] | None = None) -> Failure | None:
    """Check `examples` generated cases, reproducibly from `seed`; on a failure, shrink it
    (hypothesis) and return the smallest failing case."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed

    last: list[Failure] = []

    @with_seed(seed)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
    )
    @given(cases())
    def check(case: Case) -> None:
        try:
            outcome = check_case(case)
        except Exception as exc:
            last.append(Failure(case, f"{type(exc).__name__}: {exc}"))
            raise
        if on_outcome is not None and not last:  # not the shrinker's tries
            on_outcome(case, outcome)

    try:
        check()
    except Exception:
        if not last:
            raise
        return last[-1]  # hypothesis runs the shrunk case last
    return None
