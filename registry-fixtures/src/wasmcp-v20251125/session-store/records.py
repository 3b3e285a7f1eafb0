"""Where a session's metadata and data live in its bucket (shared by `app` and `sessions`)."""

from __future__ import annotations

import json
from typing import Any

from componentize_py_types import Err
from wit_world.exports import sessions
from wit_world.imports import random, store


def _meta_key(session_id: str) -> str:
    return f"session:{session_id}:meta"


def _data_key(session_id: str, key: str) -> str:
    return f"session:{session_id}:data:{key}"


def _bucket(store_id: str) -> store.Bucket:
    try:
        return store.open(store_id)
    except Err as error:
        raise Err(sessions.SessionError_Store(str(error.value))) from None


def _read_meta(bucket: store.Bucket, session_id: str) -> dict[str, Any]:
    try:
        text = bucket.get_json(_meta_key(session_id))
    except Err as error:
        raise Err(sessions.SessionError_Store(str(error.value))) from None
    if text is None:
        raise Err(sessions.SessionError_NoSuchSession())
    meta = json.loads(text)
    assert isinstance(meta, dict)
    return meta


def _write_meta(bucket: store.Bucket, session_id: str, meta: dict[str, Any]) -> None:
    try:
        bucket.set_json(_meta_key(session_id), json.dumps(meta))
    except Err as error:
        raise Err(sessions.SessionError_Store(str(error.value))) from None


def _uuid4() -> str:
    raw = bytearray(random.get_random_bytes(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
