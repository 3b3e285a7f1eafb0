"""Reading the user's files: one check that turns every way a path can be wrong into a
clear error naming it (missing, a dangling symlink, a directory, not a regular file,
unreadable), before anything is read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mcpkg.errors import ConfigError, NotFoundError, UsageError
from mcpkg.outfile import describe_file_type

PATH_PREFIXES = ("/", "./", "../", "~")


def written_as_path(text: str) -> bool:
    """Whether a text is written as a file path: it ends in `.wasm` or starts with `/`,
    `./`, `../` or `~`. Registry references and package names never are; the one rule
    for every argument that takes a FILE or a REF (docs/references.md)."""
    return text.endswith(".wasm") or text.startswith(PATH_PREFIXES) or text in (".", "..")


def looks_like_path(text: str) -> bool:
    """Whether a REF|FILE argument means a file: written as a path, or it exists (even as
    a dangling symlink)."""
    return written_as_path(text) or os.path.lexists(text)


def refuse_path(text: str, command: str, instead: str) -> None:
    """For an argument that takes only a registry reference: a text written as a path is
    a usage error that says so (not a request for a repository called `x.wasm`)."""
    if written_as_path(text):
        raise UsageError(f"{text} is a file path, but `mcpkg {command}` takes a registry reference", instead)


def readable_file(path: Path, what: str = "file", hint: str | None = None, *, streams: bool = False) -> Path:
    """`path`, checked to be a regular file this process can read (with `streams`, a
    FIFO or character device too: a key from `<(pass show key)`; its reader must bound
    what it reads)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if path.is_symlink():
            raise NotFoundError(
                f"{what} {path} is a symlink to {os.readlink(path)}, which does not exist", hint
            ) from None
        raise NotFoundError(f"{what} {path} does not exist (no such file)", hint) from None
    except NotADirectoryError:
        raise NotFoundError(f"{what} {path} does not exist: a part of that path is not a directory", hint) from None
    except PermissionError:
        raise ConfigError(f"cannot read {what} {path}: permission denied") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from None
    streamable = streams and (stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode))
    if not stat.S_ISREG(st.st_mode) and not streamable:
        raise ConfigError(f"{what} {path} is {describe_file_type(st.st_mode)}, not a file", hint)
    if not os.access(path, os.R_OK):
        raise ConfigError(f"cannot read {what} {path}: permission denied")
    return path
