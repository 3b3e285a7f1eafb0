"""What the one-command path calls each COMPONENT argument (ops/assemble.py): the
repository's or package's name, never a tag or a digest."""

from __future__ import annotations

import pytest

from mcpkg.ops.assemble import _name_for, name_stem

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("127.0.0.1:5000/acme/calculator:1.0.0", "calculator"),
        ("ghcr.io/acme/calculator:1.0.0", "calculator"),
        (f"ghcr.io/acme/calculator@{DIGEST}", "calculator"),
        (f"localhost:5000/acme/almanac:1.0.0@{DIGEST}", "almanac"),
        ("acme/calc:2.0", "calc"),
        ("wasmcp:tools-middleware@0.1", "tools-middleware"),
        ("wasmcp:tools-middleware", "tools-middleware"),
        ("build/my_tools.wasm", "my_tools"),
        ("./tools.wasm", "tools"),
    ],
)
def test_a_part_is_named_after_its_repository_package_or_file(text: str, name: str) -> None:
    assert name_stem(text) == name


def test_names_stay_unique_and_start_with_a_letter_or_digit() -> None:
    assert _name_for("127.0.0.1:5000/acme/calculator:1.0.0", {"calculator"}) == "calculator-2"
    assert _name_for("ghcr.io/acme/calculator:2.0.0", {"calculator", "calculator-2"}) == "calculator-3"
    assert _name_for("build/My Tools.wasm", set()) == "my-tools"
