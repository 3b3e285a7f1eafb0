"""Replay every input of `tests/unit/fuzz-crashers/` (crashers `scripts/fuzz` found, and
hand-made hostile inputs; see its README): `read_component` rejects it with
`InvalidArtifactError`, or reads it into a component that round-trips, within `TIME_LIMIT`."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest

from mcpkg.errors import InvalidArtifactError
from mcpkg.wasm.binary.decode import decode_canons, read_component
from mcpkg.wasm.binary.encode import encode_canons, encode_component
from testing.wasmbits import canon_payloads

CRASHERS = Path(__file__).parent / "fuzz-crashers"
FILES = sorted(CRASHERS.glob("*.bin"))
TIME_LIMIT = 5.0  # seconds per input; the fuzzer allows 2 on a loaded machine, every one takes milliseconds


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail with `TimeoutError` (instead of hanging) when the block runs longer than `seconds`."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_there_are_inputs_to_replay() -> None:
    assert len(FILES) >= 1, f"{CRASHERS} holds no *.bin input"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:12])
def test_crasher_is_rejected_or_round_trips(path: Path) -> None:
    data = path.read_bytes()
    with time_limit(TIME_LIMIT):
        try:
            component = read_component(data)
        except InvalidArtifactError:
            return
        assert read_component(encode_component(component)) == component
        for payload in canon_payloads(component):
            try:
                canons = decode_canons(payload)
            except InvalidArtifactError:
                continue
            assert decode_canons(encode_canons(canons)) == canons
