"""The large fixture: a real componentize-py component (Python interpreter included)
exporting `fixtures:hello/log`, carrying a generated text corpus so that it is over
20 MB, for transfer tests (chunked uploads, mounts, progress)."""

import corpus
from wit_world import exports


class Log(exports.Log):
    def log(self, level, message):  # type: ignore[no-untyped-def]
        corpus.LINES.append(f"{level}: {message}")
