"""An in-memory `wasmcp:keyvalue/store@0.1.0` (mcpkg fixture): buckets live as long as the
component instance, without `wasi:keyvalue`. Behaviour from the interface's doc comments."""

from __future__ import annotations

import store
from wit_world import exports
from wit_world.exports import store as store_types


class Store(exports.Store):
    def open(self, identifier: str) -> store_types.Bucket:
        return store.Bucket(identifier)
