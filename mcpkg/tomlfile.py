"""Reading the TOML files mcpkg owns (`mcpkg.toml`, `mcpkg.lock`, the user config), bounded.

These files are small by nature; one that is not (a mistake, or a hostile checkout) must
give a clear error rather than exhaust memory or the parser's stack. So: at most
`MAX_TOML_BYTES` are read (a `/dev/zero` symlink stops there too), the text must be
UTF-8, and `tomllib`'s recursion on absurdly nested arrays or inline tables becomes a
`ConfigError` like any other syntax problem.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from mcpkg.errors import ConfigError

MAX_TOML_BYTES = 4 * 1024 * 1024


def read_toml_bytes(path: Path) -> bytes:
    """The file's bytes, refusing files over `MAX_TOML_BYTES` without reading them whole.
    FileNotFoundError is left to the caller (a missing file often means "defaults")."""
    with path.open("rb") as f:
        data = f.read(MAX_TOML_BYTES + 1)
    if len(data) > MAX_TOML_BYTES:
        raise ConfigError(
            f"{path} is larger than {MAX_TOML_BYTES // (1024 * 1024)} MiB, mcpkg's limit for its TOML files",
            "this is not a file mcpkg wrote or expects; check its contents (docs/limits.md)",
        )
    return data


def decode_toml_text(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start})", "save it as UTF-8") from exc


def parse_toml(text: str, path: Path, hint: str) -> dict[str, Any]:
    """`tomllib.loads` with every failure as a ConfigError naming the file."""
    if len(text) > MAX_TOML_BYTES:
        raise ConfigError(f"{path} is larger than mcpkg's limit for its TOML files", hint)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", hint) from exc
    except RecursionError:
        raise ConfigError(f"{path} nests arrays or tables too deeply to be read", hint) from None
