"""The resources of the exported `sessions` interface (componentize-py looks for them in a
module named after the interface)."""

from __future__ import annotations

from componentize_py_types import Err
from records import _bucket, _data_key, _read_meta
from wit_world import exports
from wit_world.exports import sessions
from wit_world.imports import mcp, poll, store, streams


class FutureElicitResult(exports.sessions.FutureElicitResult):
    def subscribe(self) -> poll.Pollable:
        raise NotImplementedError("elicitation is not offered by this session store")

    def elicit_result(self) -> mcp.ElicitResult:
        raise NotImplementedError("elicitation is not offered by this session store")


class Session(exports.sessions.Session):
    def __init__(self, session_id: str, store_id: str) -> None:
        self.session_id = session_id
        self.store_id = store_id
        self.bucket = _bucket(store_id)

    @classmethod
    def open(cls, session_id: str, store_id: str) -> Session:
        session = cls(session_id, store_id)
        _read_meta(session.bucket, session_id)  # no-such-session when it does not exist
        return session

    def id(self) -> str:
        return self.session_id

    def get(self, key: str) -> store.TypedValue | None:
        try:
            return self.bucket.get(_data_key(self.session_id, key))
        except Err as error:
            raise Err(sessions.SessionError_Store(str(error.value))) from None

    def set(self, key: str, value: store.TypedValue) -> None:
        try:
            self.bucket.set(_data_key(self.session_id, key), value)
        except Err as error:
            raise Err(sessions.SessionError_Store(str(error.value))) from None

    def elicit(self, client: streams.OutputStream, elicitation: mcp.ElicitRequest) -> FutureElicitResult:
        raise Err(sessions.SessionError_Unexpected("elicitation is not offered by this session store"))

    def terminate(self, reason: str | None) -> None:
        from app import SessionManager

        SessionManager().mark_terminated(self.session_id, self.store_id, reason)
