"""The `bucket` resource of the exported `wasmcp:keyvalue/store` (componentize-py looks for
it in a module named after the interface)."""

from __future__ import annotations

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import store

BUCKETS: dict[str, dict[str, store.TypedValue]] = {}


def _wrong_type(key: str, wanted: str) -> Err[store.Error]:
    return Err(store.Error_Other(f"value of {key!r} is not tagged as {wanted}"))


def _check_json(text: str) -> None:
    try:
        json.loads(text)
    except ValueError as error:
        raise Err(store.Error_Other(f"not JSON: {error}")) from None


class Bucket(exports.store.Bucket):
    def __init__(self, name: str) -> None:
        self.name = name
        self.data = BUCKETS.setdefault(name, {})

    def get(self, key: str) -> store.TypedValue | None:
        return self.data.get(key)

    def set(self, key: str, value: store.TypedValue) -> None:
        if isinstance(value, store.TypedValue_AsJson):
            _check_json(value.value)
        self.data[key] = value

    def _typed(self, key: str, kind: type, wanted: str):  # type: ignore[no-untyped-def]
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, kind):
            raise _wrong_type(key, wanted)
        return value.value  # type: ignore[attr-defined]

    def get_json(self, key: str) -> str | None:
        return self._typed(key, store.TypedValue_AsJson, "JSON")

    def set_json(self, key: str, json: str) -> None:
        self.set(key, store.TypedValue_AsJson(json))

    def get_string(self, key: str) -> str | None:
        return self._typed(key, store.TypedValue_AsString, "string")

    def set_string(self, key: str, value: str) -> None:
        self.data[key] = store.TypedValue_AsString(value)

    def get_u64(self, key: str) -> int | None:
        return self._typed(key, store.TypedValue_AsU64, "u64")

    def set_u64(self, key: str, value: int) -> None:
        self.data[key] = store.TypedValue_AsU64(value)

    def get_s64(self, key: str) -> int | None:
        return self._typed(key, store.TypedValue_AsS64, "s64")

    def set_s64(self, key: str, value: int) -> None:
        self.data[key] = store.TypedValue_AsS64(value)

    def get_bool(self, key: str) -> bool | None:
        return self._typed(key, store.TypedValue_AsBool, "bool")

    def set_bool(self, key: str, value: bool) -> None:
        self.data[key] = store.TypedValue_AsBool(value)

    def get_bytes(self, key: str) -> bytes | None:
        return self._typed(key, store.TypedValue_AsBytes, "bytes")

    def set_bytes(self, key: str, value: bytes) -> None:
        self.data[key] = store.TypedValue_AsBytes(value)

    def get_many(self, keys: list[str]) -> list[tuple[str, store.TypedValue] | None]:
        return [(key, self.data[key]) if key in self.data else None for key in keys]

    def set_many(self, pairs: list[tuple[str, store.TypedValue]]) -> None:
        for key, value in pairs:
            self.set(key, value)

    def delete_many(self, keys: list[str]) -> None:
        for key in keys:
            self.data.pop(key, None)

    def delete(self, key: str) -> None:
        self.data.pop(key, None)

    def exists(self, key: str) -> bool:
        return key in self.data

    def list_keys(self, cursor: str | None) -> store.KeyResponse:
        # one page: every key (the cursor of a previous page is never handed out)
        return store.KeyResponse(keys=sorted(self.data), cursor=None)

    def increment(self, key: str, delta: int) -> int:
        value = self.data.get(key)
        if value is None:
            current = 0
        elif isinstance(value, store.TypedValue_AsS64):
            current = value.value
        else:
            raise _wrong_type(key, "s64")
        self.data[key] = store.TypedValue_AsS64(current + delta)
        return current + delta
