"""A minutes-long mutation fuzz run of the component binary reader (`mcpkg.wasm.binary`).

    ./scripts/fuzz [--minutes 5] [--seed N] [--fixtures DIR]

The contract under test: `read_component` either raises `InvalidArtifactError` or returns a
component that round-trips (`read_component(encode_component(c)) == c`; likewise
`decode_canons` on every canon section). Anything else is a crasher: another exception, a
hang (no verdict within `TIMEOUT` seconds) or unbounded allocation (`MemoryError`, or the
worker dying, under an address-space limit of `MEMORY_LIMIT`).

Design:
- The corpus is every built fixture component (`*.wasm` of `registry-fixtures/build.py`'s
  output directory), the WIT worlds of `wit/`, the many-constructs WAT of the reader's tests
  and `MORE_WAT` (all built with wasm-tools), and `NAME_OPTIONS`; each shrunk: core modules
  become an empty core module and custom sections lose their data, so an 18 MB
  componentize-py component becomes a hundred KB of the structure the reader decodes. Each
  section alone (after the preamble) and each nested component are inputs too, and so are
  some of the accepted mutants.
- A mutant is a corpus entry parsed (leniently) into a tree of sections, changed by a few
  structure-aware edits (duplicate, drop, swap or splice in sections, random section ids,
  size fields set to huge or off-by-one values, byte edits inside one payload with the sizes
  around it kept right, deeply nested types), written back, then sometimes changed by raw
  byte edits (bit flips, truncation, huge LEB128 integers anywhere, nesting in hundreds of
  components). A few inputs are random bytes after the preamble.
- Each input runs in a worker subprocess (this script with `--worker`) that holds the
  address-space limit; the parent sends the input over a pipe and waits for the verdict
  with a timeout. A worker that hangs or dies is replaced.
- One crasher is kept per kind (exception type and innermost frame, "hang", "died"),
  the shortest input seen, as `tests/unit/fuzz-crashers/<sha256>.bin`; the regression test
  `tests/unit/test_fuzz_crashers.py` replays that directory. Exit status 1 if any.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import random
import resource
import select
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcpkg.errors import InvalidArtifactError  # noqa: E402
from mcpkg.wasm.binary.decode import decode_canons, read_component  # noqa: E402
from mcpkg.wasm.binary.encode import encode_canons, encode_component  # noqa: E402
from mcpkg.wasm.binary.leb import Reader, encode_u32  # noqa: E402
from mcpkg.wasm.binary.types import (  # noqa: E402
    CORE_MODULE_SECTION,
    CORE_PREAMBLE,
    CUSTOM_SECTION,
    MAX_DEPTH,
    PREAMBLE,
    AnySection,
    Component,
    ComponentSection,
    ExternName,
    FuncDesc,
    Import,
    ImportSection,
    NameOption,
    Section,
)
from testing.wasmbits import canon_payloads  # noqa: E402

CRASHERS = ROOT / "tests" / "unit" / "fuzz-crashers"
TIMEOUT = 2.0  # seconds per input
MEMORY_LIMIT = 1 << 30  # bytes of address space for the worker
MAX_INPUT = 1 << 20
MAX_CORPUS_GROWTH = 2000  # accepted mutants added to the corpus, at most
WORLDS = ("stdio-transport", "tools-handler", "writers", "http-transport", "middleware")

# Integers that upset length and count fields: the largest u32s, overlong and too-large encodings.
HUGE_LEBS = (
    encode_u32(2**32 - 1),
    encode_u32(2**31),
    encode_u32(2**28),
    encode_u32(65536),
    b"\xff\xff\xff\xff\x7f",  # more than 32 bits
    b"\x80\x80\x80\x80\x80\x00",  # six bytes
    b"\x80\x80\x80\x80",  # unterminated
    b"\xff\xff\xff\xff\x0f",
)
INTERESTING_BYTES = (0x00, 0x01, 0x02, 0x3F, 0x40, 0x41, 0x42, 0x43, 0x63, 0x64, 0x7F, 0x80, 0xFF)
DECODED_SECTION_IDS = (4, 5, 6, 7, 10, 11)

# Constructs that neither the fixtures nor the tests' TOOL_WAT hold (resources, reference
# types in core types, instances from exports, resource built-ins).
MORE_WAT = """(component
  (core module $m (func (export "d") (param i32)))
  (core instance $i (instantiate $m))
  (alias core export $i "d" (core func $d))
  (type $r (resource (rep i32) (dtor (core func $d))))
  (type $r2 (resource (rep i32)))
  (core func (canon resource.new $r))
  (core func (canon resource.drop $r))
  (core func (canon resource.rep $r))
  (type (instance
    (core type (func (param (ref null func) (ref extern) (ref null 0)) (result (ref any))))
    (export "x" (type (sub resource)))))
  (type (component (import "f" (func)) (import "c" (core module)) (import "cc" (component))))
  (instance (export "r" (type $r)) (export "r2" (type $r2)))
  (export "e" (type $r)))"""
# And an import name with options (0x02), which wasm-tools does not write from text.
_OPTIONS = tuple(NameOption(kind, "x@1.0") for kind in (0, 1, 2))
NAME_OPTIONS = Component((ImportSection((Import(ExternName("a:b/c", 0x02, _OPTIONS), FuncDesc(0)),)),))


# --- the worker: one verdict per input --------------------------------------------------


def crash_verdict(error: BaseException, stage: str) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    message = " ".join(str(error).split())[:300]
    return f"crash {type(error).__name__}{where} ({stage})\t{message}"


def check(data: bytes) -> str:
    """The verdict on one input: accepted, rejected, or "crash <kind>\\t<message>"."""
    try:
        component = read_component(data)
    except InvalidArtifactError:
        return "rejected"
    except Exception as error:
        return crash_verdict(error, "read")
    try:
        if read_component(encode_component(component)) != component:
            return "crash round trip\tthe re-encoded component reads back differently"
        for payload in canon_payloads(component):
            try:
                canons = decode_canons(payload)
            except InvalidArtifactError:
                continue
            if decode_canons(encode_canons(canons)) != canons:
                return "crash canon round trip\tthe re-encoded canon section reads back differently"
    except Exception as error:
        return crash_verdict(error, "round trip")
    return "accepted"


def worker() -> int:
    """Read length-prefixed inputs on stdin, write one verdict line per input on stdout."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(b"ready\n")
    stdout.flush()
    while header := stdin.read(4):
        data = stdin.read(int.from_bytes(header, "little"))
        stdout.write(check(data).encode() + b"\n")
        stdout.flush()
    return 0


class Worker:
    """The parent's handle on a worker subprocess."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        if self._line(30.0) != "ready":
            raise SystemExit("the fuzz worker did not start")

    def _line(self, timeout: float) -> str | None:
        out = self.proc.stdout
        assert out is not None
        if not select.select([out], [], [], timeout)[0]:
            return None
        return out.readline().decode().rstrip("\n")

    def run(self, data: bytes) -> str:
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            stdin.write(len(data).to_bytes(4, "little") + data)
            stdin.flush()
        except BrokenPipeError:
            return f"crash died\tthe worker exited ({self.proc.wait()}) before reading the input"
        line = self._line(TIMEOUT)
        if line is None:
            self.stop()
            return f"crash hang\tno verdict within {TIMEOUT} s"
        if not line:
            return f"crash died\tthe worker exited ({self.proc.wait()}), out of memory or stack?"
        return line

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


# --- the corpus ---------------------------------------------------------------------------


def shrink(component: Component) -> Component:
    """Core modules emptied, custom sections cut to their name and 8 bytes: what is left is
    what the reader decodes."""
    sections: list[AnySection] = []
    for s in component.sections:
        if isinstance(s, ComponentSection):
            s = ComponentSection(shrink(s.component))
        elif isinstance(s, Section) and s.id == CORE_MODULE_SECTION:
            s = Section(s.id, CORE_PREAMBLE)
        elif isinstance(s, Section) and s.id == CUSTOM_SECTION:
            r = Reader(s.payload)
            r.name()
            s = Section(s.id, s.payload[: r.pos + 8])
        sections.append(s)
    return Component(tuple(sections))


def fixtures_dir() -> Path:
    """The built fixtures (building what is stale): the last stdout line of build.py."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "registry-fixtures" / "build.py")], check=True, capture_output=True, text=True
    ).stdout
    return Path(out.strip().splitlines()[-1])


def load_corpus(fixtures: Path) -> list[bytes]:
    from testing.wasmbits import TOOL_WAT
    from testing.witbuild import build_world, wasm_tools

    files = sorted(p for p in fixtures.rglob("*.wasm") if "tmp" not in p.relative_to(fixtures).parts)
    raw = [p.read_bytes() for p in files]
    raw.append(encode_component(NAME_OPTIONS))
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate((TOOL_WAT, MORE_WAT)):
            wat = Path(tmp) / f"constructs{i}.wat"
            wat.write_text(text)
            subprocess.run([wasm_tools(), "parse", str(wat), "-o", str(wat.with_suffix(".wasm"))], check=True)
            raw.append(wat.with_suffix(".wasm").read_bytes())
        raw += [build_world(ROOT / "wit", w, Path(tmp) / f"{w}.wasm").read_bytes() for w in WORLDS]
    corpus: dict[bytes, None] = {}  # ordered and without duplicates
    for data in raw:
        with contextlib.suppress(InvalidArtifactError):  # a core module: kept as it is
            data = encode_component(shrink(read_component(data)))
        corpus[data] = None
        # Each section on its own and each nested component too: small inputs run faster.
        corpus.update(dict.fromkeys(serialize([n]) for n in all_nodes(parse(data))))
        corpus.update(dict.fromkeys(serialize(n.body) for n in all_nodes(parse(data)) if isinstance(n.body, list)))
    print(f"corpus: {len(corpus)} inputs from {len(files)} fixture files, 2 WATs, {len(WORLDS)} worlds and 1 more, "
          f"{sum(map(len, corpus)) // 1024} KiB in all", file=sys.stderr)  # fmt: skip
    return list(corpus)


# --- mutation -----------------------------------------------------------------------------


@dataclass
class Node:
    """A section: `body` is a nested component's sections or a payload; `size` a forced
    size field (by default the payload's true size)."""

    id: int
    body: list[Node] | bytes
    size: bytes | None = None


def _leb(data: bytes, pos: int) -> tuple[int, int] | None:
    value = shift = 0
    for i in range(pos, min(pos + 5, len(data))):
        value |= (data[i] & 0x7F) << shift
        shift += 7
        if not data[i] & 0x80:
            return value, i + 1
    return None


def parse(data: bytes, start: int = 8) -> list[Node]:
    """The sections of `data` as far as they are well-framed; a payload that is a whole
    component becomes a subtree."""
    nodes: list[Node] = []
    pos = start
    while pos < len(data):
        size = _leb(data, pos + 1)
        if size is None or size[1] + size[0] > len(data):
            nodes.append(Node(data[pos], data[pos + 1 :], b""))  # the rest, unframed
            break
        payload = data[size[1] : size[1] + size[0]]
        body: list[Node] | bytes = payload
        if data[pos] == 4 and payload.startswith(PREAMBLE):
            body = parse(payload)
        nodes.append(Node(data[pos], body))
        pos = size[1] + size[0]
    return nodes


def serialize(nodes: list[Node]) -> bytes:
    out = [PREAMBLE]
    for node in nodes:
        payload = serialize(node.body) if isinstance(node.body, list) else node.body
        out += [bytes([node.id]), encode_u32(len(payload)) if node.size is None else node.size, payload]
    return b"".join(out)


def all_nodes(nodes: list[Node]) -> list[Node]:
    found: list[Node] = []
    for node in nodes:
        found.append(node)
        if isinstance(node.body, list):
            found += all_nodes(node.body)
    return found


def deep_types(depth: int, rng: random.Random) -> bytes:
    """A type section of one type: instance and component types nested `depth` deep."""
    levels = b"".join(rng.choice((b"\x42\x01\x01", b"\x41\x01\x01")) for _ in range(depth))
    return b"\x01" + levels + b"\x42\x00"


class Mutator:
    def __init__(self, corpus: list[bytes], rng: random.Random) -> None:
        self.corpus = corpus
        self.rng = rng

    # Byte-level edits.

    def edit_bytes(self, data: bytes) -> bytes:
        rng = self.rng
        pos = rng.randrange(len(data) + 1)
        op = rng.randrange(7)
        if op == 0 and data:  # flip a bit
            pos = min(pos, len(data) - 1)
            return data[:pos] + bytes([data[pos] ^ (1 << rng.randrange(8))]) + data[pos + 1 :]
        if op == 1 and data:  # an interesting byte
            pos = min(pos, len(data) - 1)
            return data[:pos] + bytes([rng.choice(INTERESTING_BYTES)]) + data[pos + 1 :]
        if op == 2:  # truncate
            return data[:pos]
        if op == 3:  # drop a run
            return data[:pos] + data[pos + rng.randint(1, 16) :]
        if op == 4:  # insert random bytes
            return data[:pos] + rng.randbytes(rng.randint(1, 16)) + data[pos:]
        if op == 5:  # duplicate a run
            return data[:pos] + data[pos : pos + rng.randint(1, 64)] + data[pos:]
        # a huge or malformed LEB128 integer over (or before) what is there
        return data[:pos] + rng.choice(HUGE_LEBS) + data[pos + rng.randint(0, 5) :]

    # Section-level edits.

    def random_nodes(self) -> list[Node]:
        return all_nodes(parse(self.rng.choice(self.corpus))) or [Node(7, b"\x00")]

    def edit_tree(self, top: list[Node]) -> None:
        rng = self.rng
        lists = [top] + [n.body for n in all_nodes(top) if isinstance(n.body, list)]
        nodes = rng.choice(lists)
        i = rng.randrange(len(nodes) + 1)
        node = nodes[min(i, len(nodes) - 1)] if nodes else None
        op = rng.randrange(9)
        if op == 0 and node:  # duplicate a section
            nodes.insert(i, parse(serialize([node]))[0])
        elif op == 1 and node:
            nodes.remove(node)
        elif op == 2 and len(nodes) > 1:  # swap two sections
            j = rng.randrange(len(nodes))
            k = nodes.index(node) if node else 0
            nodes[j], nodes[k] = nodes[k], nodes[j]
        elif op == 3:  # splice in a section of another input
            nodes.insert(i, rng.choice(self.random_nodes()))
        elif op == 4 and node:  # a random section id
            node.id = rng.choice((rng.randrange(256), rng.randrange(14)))
        elif op == 5 and node:  # a wrong size field
            true = len(serialize(node.body)) if isinstance(node.body, list) else len(node.body)
            node.size = rng.choice((*HUGE_LEBS, encode_u32(true + 1), encode_u32(max(true - 1, 0)), b"\x80" * 4))
        elif op == 6:  # a section of a decoded kind with random content
            nodes.insert(i, Node(rng.choice(DECODED_SECTION_IDS), rng.randbytes(rng.randint(0, 40))))
        elif op == 7:  # deeply nested types
            depth = rng.choice((MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, rng.randint(1, 2000)))
            nodes.insert(i, Node(7, deep_types(depth, rng)))
        else:  # edit inside one payload, the sizes around it kept right
            leaves = [n for n in all_nodes(top) if isinstance(n.body, bytes)]
            if leaves:
                leaf = rng.choice(leaves)
                assert isinstance(leaf.body, bytes)
                for _ in range(rng.randint(1, 3)):
                    leaf.body = self.edit_bytes(leaf.body)

    def input(self) -> bytes:
        rng = self.rng
        if rng.random() < 0.03:
            return PREAMBLE + rng.randbytes(rng.randint(0, 200))
        tree = parse(rng.choice(self.corpus))
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 5, 8))):
            self.edit_tree(tree)
        data = serialize(tree)
        if rng.random() < 0.25:
            for _ in range(rng.randint(1, 3)):
                data = self.edit_bytes(data)
        if rng.random() < 0.02:  # nest the whole in components
            for _ in range(rng.choice((1, MAX_DEPTH, MAX_DEPTH + 1, 300))):
                data = PREAMBLE + b"\x04" + encode_u32(len(data)) + data
        return data


# --- the run --------------------------------------------------------------------------------


@dataclass
class Crasher:
    data: bytes
    message: str
    count: int = 1

    @property
    def path(self) -> Path:
        return CRASHERS / f"{hashlib.sha256(self.data).hexdigest()}.bin"


def record(crashers: dict[str, Crasher], kind: str, message: str, data: bytes, log: IO[str]) -> None:
    """Keep the shortest input of each kind of crash."""
    seen = crashers.get(kind)
    if seen is None:
        print(f"CRASHER {kind}: {message} ({len(data)} bytes)", file=log)
    elif len(data) < len(seen.data):
        seen.path.unlink(missing_ok=True)
    else:
        seen.count += 1
        return
    crashers[kind] = Crasher(data, message, 1 if seen is None else seen.count + 1)
    CRASHERS.mkdir(parents=True, exist_ok=True)
    crashers[kind].path.write_bytes(data)


def fuzz(corpus: list[bytes], seconds: float, seed: int, log: IO[str]) -> int:
    rng = random.Random(seed)
    mutator = Mutator(corpus, rng)
    crashers: dict[str, Crasher] = {}
    counts = {"accepted": 0, "rejected": 0, "crash": 0}
    max_corpus = len(corpus) + MAX_CORPUS_GROWTH
    worker = Worker()
    started = time.monotonic()
    next_report = started + 60
    tried = 0
    try:
        while (now := time.monotonic()) - started < seconds:
            if now >= next_report:
                print(f"  {tried} inputs, {tried / (now - started):.0f}/s, {len(crashers)} crashers", file=log)
                next_report += 60
            data = mutator.input()
            if len(data) > MAX_INPUT:
                continue
            tried += 1
            verdict = worker.run(data)
            if verdict.startswith("crash hang"):  # make sure: once more, in a fresh worker
                worker = Worker()
                verdict = worker.run(data)
            if verdict.startswith("crash"):
                kind, _, message = verdict.removeprefix("crash ").partition("\t")
                record(crashers, kind, message, data, log)
                counts["crash"] += 1
                worker.stop()
                worker = Worker()
                continue
            counts[verdict] += 1
            if verdict == "accepted" and rng.random() < 0.05 and len(corpus) < max_corpus:
                corpus.append(data)
    finally:
        worker.stop()
    elapsed = time.monotonic() - started
    print(f"inputs tried: {tried} in {elapsed:.0f} s ({tried / elapsed:.0f}/s), seed {seed}")
    print(f"accepted: {counts['accepted']}, rejected: {counts['rejected']}, crashing: {counts['crash']}")
    print(f"corpus at the end: {len(corpus)} inputs")
    print(f"crashers: {len(crashers)} kinds" + (f", saved in {CRASHERS}" if crashers else ""))
    for kind, crasher in sorted(crashers.items()):
        print(f"  {kind} x{crasher.count}: {crasher.message}\n    {crasher.path.name} ({len(crasher.data)} bytes)")
    return 1 if crashers else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0, help="how long to fuzz (default 5)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock)")
    parser.add_argument("--fixtures", type=Path, default=None, help="built fixtures (default: run build.py)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker()
    seed = args.seed if args.seed is not None else time.time_ns() % 2**32
    corpus = load_corpus(args.fixtures or fixtures_dir())
    return fuzz(corpus, args.minutes * 60, seed, sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
