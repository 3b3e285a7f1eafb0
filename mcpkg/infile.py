"""Reading the user's files: one check that turns every way a path can be wrong into a
clear error naming it (missing, a dangling symlink, a directory, not a regular file,
unreadable), before anything is read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mcpkg.errors import ConfigError, NotFoundError
from mcpkg.outfile import describe_file_type

PATH_PREFIXES = ("/", "./", "../", "~/")


def looks_like_path(text: str) -> bool:
    """Whether a REF|FILE argument means a file: it exists (even as a dangling symlink),
    ends in `.wasm`, or starts like a path. Registry references never do."""
    return os.path.lexists(text) or text.endswith(".wasm") or text.startswith(PATH_PREFIXES)


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
        raise NotFoundError(f"{what} {path} does not exist", hint) from None
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
