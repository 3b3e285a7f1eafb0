"""Readers for the other end of a FIFO, as a user's `cat FIFO` would be."""

from __future__ import annotations

import threading
from pathlib import Path


class FifoReader:
    """Reads a FIFO to its end in a thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with open(self.path, "rb") as f:
            self.data = f.read()

    def result(self) -> bytes:
        self.thread.join(10)
        assert not self.thread.is_alive(), "the FIFO's reader never saw the end of the data"
        return self.data
