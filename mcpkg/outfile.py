"""Writing the user's files: what a destination path is decides how it is written.

Every file mcpkg writes for a user (`pull -o`, `compose -o`, `mcpkg.lock`, `mcpkg.toml`,
keys, Docker's `config.json`) goes through `resolve_destination` and `open_output`:

| the path is | what happens |
|---|---|
| `-` (`pull`, `compose`) | the bytes go to stdout; refused when stdout is a terminal |
| missing, in an existing directory | temp file beside it, then a rename (atomic) |
| a regular file | the same: the old file or the complete new one, never part of one |
| a symlink | resolved; its target is written by these rules; the link itself stays |
| a character device or a FIFO | written through (opened and written; no rename) |
| a dangling symlink | an error (as `cp` does: nothing is created at the link's target) |
| a directory | an error naming it (`pull`/`compose -o DIR` write inside it instead) |
| a socket, a block device | an error naming it |

A temp file is `.NAME.<pid>.<unique>.tmp` beside the file (so `os.replace` is atomic).
A process killed outright (SIGKILL, OOM killer, power loss) cannot remove it; the next
write to the same `NAME` does, when the pid in the name is no longer a running process.
Files written by rename are fsynced first (`durable`), so a power loss leaves the old or
the new file. (The cache writes its own files through its `tmp/`: `Cache.write_file`.)
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import os
import re
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from mcpkg.errors import ConfigError, UsageError

STDOUT = "-"


class Kind(enum.Enum):
    STDOUT = "stdout"
    FILE = "file"  # a regular file or a missing path: temp file + rename
    STREAM = "stream"  # a character device or a FIFO: written through


@dataclass(frozen=True)
class Destination:
    """Where bytes for the user go. `path` is the file actually written (a symlink's
    target resolved); `shown` is what the user wrote, for messages."""

    kind: Kind
    path: Path
    shown: str

    @property
    def is_stdout(self) -> bool:
        return self.kind is Kind.STDOUT

    def __str__(self) -> str:
        return "stdout" if self.is_stdout else self.shown


class PathProblem(ConfigError):
    """A path the user gave cannot be used as asked (exit 1, message names the path)."""


def is_stdout(path: Path | str | None) -> bool:
    return path is not None and str(path) == STDOUT


def describe_file_type(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def _stdout_destination(what: str) -> Destination:
    if sys.stdout.isatty():
        raise UsageError(
            f"refusing to write the {what} to a terminal (-o -)",
            "redirect stdout to a file or a pipe, or give -o a path",
        )
    return Destination(Kind.STDOUT, Path(STDOUT), STDOUT)


def resolve_destination(path: Path | str, *, what: str = "file", allow_stdout: bool = False) -> Destination:
    """Classify `path` as a destination (see the module docstring); raise a PathProblem
    naming the path when it cannot be written. Nothing is created here."""
    shown = str(path)
    if allow_stdout and shown == STDOUT:
        return _stdout_destination(what)
    given = Path(path)
    try:
        st = os.stat(given)  # follows symlinks
    except FileNotFoundError:
        if given.is_symlink():
            raise PathProblem(
                f"cannot write {shown}: it is a symlink to {os.readlink(given)}, which does not exist",
                "create the link's target directory, remove the link, or choose another path",
            ) from None
        return Destination(Kind.FILE, _checked_new(given, shown), shown)
    except NotADirectoryError:
        raise PathProblem(f"cannot write {shown}: a part of that path is not a directory") from None
    except PermissionError:
        raise PathProblem(f"cannot write {shown}: permission denied", "choose a path you can write to") from None
    except OSError as exc:
        raise PathProblem(f"cannot write {shown}: {exc.strerror}") from None
    mode = st.st_mode
    target = Path(os.path.realpath(given)) if given.is_symlink() else given
    if stat.S_ISREG(mode):
        _check_writable_dir(target.parent, shown)
        return Destination(Kind.FILE, target, shown)
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        if not os.access(target, os.W_OK):
            raise PathProblem(f"cannot write {shown}: permission denied", "choose a path you can write to")
        return Destination(Kind.STREAM, target, shown)
    raise PathProblem(
        f"cannot write {shown}: it is {describe_file_type(mode)}",
        "give the path of a file to write (mcpkg never replaces a directory, socket or device)",
    )


def resolve_artifact_output(output: Path, name_inside: str, what: str) -> Destination:
    """Where `-o OUTPUT` of `pull`/`compose` writes: `-` is stdout; a directory gets
    `name_inside` in it (as `cp FILE DIR` does); anything else by the destination rules."""
    if is_stdout(output):
        return resolve_destination(output, what=what, allow_stdout=True)
    if output.is_dir():
        output = output / name_inside
    return resolve_destination(output, what=what)


def _checked_new(given: Path, shown: str) -> Path:
    parent = given.parent
    if not parent.is_dir():
        raise PathProblem(
            f"cannot write {shown}: directory {parent} does not exist",
            "create the directory first or choose another path",
        )
    # a symlinked directory stays as it is: the file is created inside its target
    _check_writable_dir(parent, shown)
    return given


def _check_writable_dir(directory: Path, shown: str) -> None:
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PathProblem(
            f"cannot write {shown}: directory {directory} is not writable",
            "choose a path you can write to",
        )


def temp_path_for(dest: Path) -> Path:
    return dest.parent / f".{dest.name}.{os.getpid()}.{os.urandom(6).hex()}.tmp"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def remove_dead_temps(dest: Path) -> int:
    """Remove temp files that killed writers left for `dest`; returns how many."""
    pattern = re.compile(re.escape(f".{dest.name}.") + r"(\d+)\.[0-9a-z_]+\.tmp")
    removed = 0
    try:
        candidates = list(dest.parent.iterdir())
    except OSError:
        return 0
    for path in candidates:
        match = pattern.fullmatch(path.name)
        if match is None or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        with contextlib.suppress(FileNotFoundError, PermissionError):
            path.unlink()
            removed += 1
    return removed


class PendingFile:
    """A temp file beside `dest`, renamed over it by `commit` (after an fsync when
    `durable`) and removed by `discard`. The object behind `open_output` for files."""

    def __init__(self, dest: Path, mode: int = 0o644, *, durable: bool = True) -> None:
        self.dest = dest
        self.mode = mode
        self.durable = durable
        remove_dead_temps(dest)
        self.tmp = temp_path_for(dest)
        try:
            fd = os.open(self.tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except PermissionError:
            raise PathProblem(f"cannot write {dest}: permission denied", "choose a path you can write to") from None
        except OSError as exc:
            raise PathProblem(f"cannot write {dest}: {exc.strerror}") from None
        self.file = cast(BinaryIO, os.fdopen(fd, "w+b"))
        self.done = False

    def commit(self) -> None:
        try:
            self.file.flush()
            if self.durable:
                os.fsync(self.file.fileno())
            os.fchmod(self.file.fileno(), self.mode)
            self.file.close()
            os.replace(self.tmp, self.dest)
            self.done = True
        except OSError as exc:
            self.discard()
            raise PathProblem(f"cannot write {self.dest}: {exc.strerror}") from exc

    def discard(self) -> None:
        if self.done:
            return
        self.done = True
        self.file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tmp)


@contextlib.contextmanager
def open_output(dest: Destination, mode: int = 0o644, *, durable: bool = True) -> Iterator[BinaryIO]:
    """A binary file to write `dest`'s content into. For a file, the content becomes
    visible only when the block ends normally; on an exception nothing changed. For
    stdout, a device or a FIFO, the bytes go out as they are written: callers write
    only content they have verified."""
    if dest.kind is Kind.FILE:
        pending = PendingFile(dest.path, mode, durable=durable)
        try:
            yield pending.file
        except BaseException:
            pending.discard()
            raise
        pending.commit()
        return
    if dest.kind is Kind.STDOUT:
        sys.stdout.flush()
        out = sys.stdout.buffer
        yield out
        out.flush()
        return
    try:
        # no O_TRUNC, no O_CREAT: a device or FIFO is written as it is
        fd = os.open(dest.path, os.O_WRONLY)
    except OSError as exc:
        raise PathProblem(f"cannot write {dest.shown}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as stream:
        yield cast(BinaryIO, stream)


def write_user_file(path: Path | Destination, data: bytes, mode: int = 0o644) -> Destination:
    """Write a whole file for the user by the destination rules (durable)."""
    dest = path if isinstance(path, Destination) else resolve_destination(path)
    with open_output(dest, mode) as out:
        out.write(data)
    return dest


FICLONE = 0x40049409  # _IOW(0x94, 9, int): Linux's reflink ioctl (Python 3.11 has no constant)
COPY_CHUNK = 8 * 1024 * 1024


def copy_file_contents(source: BinaryIO, target: BinaryIO, size: int) -> str:
    """Copy `size` bytes from the start of `source` into the empty `target`, as cheaply
    as the filesystem allows; returns how: "reflink" (a copy-on-write clone: no data
    copied, and writing into either file never changes the other), "kernel" (a
    kernel-side copy with `copy_file_range`) or "read" (a plain read/write loop, for a
    pipe, a device, or a filesystem that supports neither)."""

    source.flush()
    target.flush()
    src, dst = source.fileno(), target.fileno()
    if stat.S_ISREG(os.fstat(dst).st_mode):
        try:
            fcntl.ioctl(dst, FICLONE, src)
            return "reflink"
        except OSError:
            pass
        copied = 0
        try:
            while copied < size:
                n = os.copy_file_range(src, dst, size - copied, copied, copied)
                if n == 0:
                    break
                copied += n
            if copied == size:
                os.lseek(dst, size, os.SEEK_SET)
                return "kernel"
        except OSError:
            pass
        os.ftruncate(dst, 0)
        os.lseek(dst, 0, os.SEEK_SET)
    source.seek(0)
    remaining = size
    while remaining > 0:
        chunk = source.read(min(COPY_CHUNK, remaining))
        if not chunk:
            raise OSError(f"the source ended {remaining} bytes early")
        target.write(chunk)
        remaining -= len(chunk)
    target.flush()
    return "read"


def ensure_directory(directory: Path, *, mode: int = 0o777) -> None:
    """Create `directory` (and its parents) when missing, as `mkdir -p` does; a clear
    PathProblem naming it when that cannot be done."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=mode)
    except FileExistsError:
        raise PathProblem(f"cannot create directory {directory}: a file of that name is in the way") from None
    except NotADirectoryError:
        raise PathProblem(f"cannot create directory {directory}: a part of that path is not a directory") from None
    except PermissionError:
        raise PathProblem(
            f"cannot create directory {directory}: permission denied", "choose a path you can write to"
        ) from None
    except OSError as exc:
        raise PathProblem(f"cannot create directory {directory}: {exc.strerror}") from None
