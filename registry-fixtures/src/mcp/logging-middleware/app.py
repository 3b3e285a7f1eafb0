"""A middleware that logs one line per message (method and id) to stderr, then forwards
the request unchanged."""

import contextlib

from wit_world import exports
from wit_world.imports import incoming_handler, stderr, streams
from wit_world.imports import mcpkg_mcp_types as types

# blocking-write-and-flush accepts at most 4096 bytes per call.
CHUNK = 4096

_stderr: list[streams.OutputStream] = []


def log(line: str) -> None:
    # Got lazily: host imports cannot be called while componentize-py pre-initialises the app.
    if not _stderr:
        _stderr.append(stderr.get_stderr())
    data = line.encode()
    for start in range(0, len(data), CHUNK):
        _stderr[0].blocking_write_and_flush(data[start : start + CHUNK])


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: types.Request, output: streams.OutputStream) -> None:
        with contextlib.suppress(Exception):  # logging must never break the chain
            log(f"mcpkg-fixture: {request.method} id={request.id if request.id is not None else '-'}\n")
        incoming_handler.handle(request, output)
