"""Sessions kept in the imported `wasmcp:keyvalue/store` (mcpkg fixture): `sessions` for
tools, `session-manager` for transports. Behaviour from the interfaces' doc comments: a
new session gets a UUID v4 (from `wasi:random`) and metadata in the bucket named by its
store id; termination is a soft delete, `delete-session` removes every key; elicitation
is not offered (it needs a client answering on a stream this fixture does not read)."""

from __future__ import annotations

import time

from componentize_py_types import Err
from records import _bucket, _read_meta, _uuid4, _write_meta
from wit_world import exports
from wit_world.exports import sessions


class Sessions(exports.Sessions):
    pass


class SessionManager(exports.SessionManager):
    def initialize(self, store_id: str) -> str:
        session_id = _uuid4()
        _write_meta(_bucket(store_id), session_id, {"terminated": False, "created-at": int(time.time())})
        return session_id

    def validate(self, session_id: str, store_id: str) -> bool:
        meta = _read_meta(_bucket(store_id), session_id)
        expires = meta.get("expires-at")
        if isinstance(expires, int) and time.time() >= expires:
            return False
        return not meta.get("terminated", False)

    def mark_terminated(self, session_id: str, store_id: str, reason: str | None) -> None:
        bucket = _bucket(store_id)
        meta = _read_meta(bucket, session_id)
        if not meta.get("terminated"):
            meta.update({"terminated": True, "reason": reason})
            _write_meta(bucket, session_id, meta)

    def delete_session(self, session_id: str, store_id: str) -> None:
        bucket = _bucket(store_id)
        _read_meta(bucket, session_id)
        prefix = f"session:{session_id}:"
        try:
            keys = bucket.list_keys(None).keys
            bucket.delete_many([key for key in keys if key.startswith(prefix)])
        except Err as error:
            raise Err(sessions.SessionError_Store(str(error.value))) from None

    def set_expiration(self, session_id: str, store_id: str, expires_at: int) -> None:
        bucket = _bucket(store_id)
        meta = _read_meta(bucket, session_id)
        meta["expires-at"] = expires_at
        _write_meta(bucket, session_id, meta)
