"""LEB128 integers and a bounds-checked byte reader for the Wasm binary formats.

Every decoding failure raises `InvalidArtifactError` (never `IndexError`, `ValueError`,
`UnicodeDecodeError`...), so that callers can treat any malformed input the same way.
"""

from __future__ import annotations

from mcpkg.errors import InvalidArtifactError

_HINT = "the file is damaged or not a WebAssembly component this version of mcpkg understands"


def malformed(message: str) -> InvalidArtifactError:
    """The error for malformed or unsupported binary input."""
    return InvalidArtifactError(message, _HINT)


# --- writers ---------------------------------------------------------------------------


def encode_u(value: int, bits: int = 32) -> bytes:
    """Unsigned LEB128 of `value` (minimal length)."""
    if value < 0 or value >= 1 << bits:
        raise ValueError(f"{value} does not fit in u{bits}")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_s(value: int, bits: int = 33) -> bytes:
    """Signed LEB128 of `value` (minimal length)."""
    if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        raise ValueError(f"{value} does not fit in s{bits}")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7  # arithmetic shift: the sign is kept
        if (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def encode_u32(value: int) -> bytes:
    return encode_u(value, 32)


def encode_name(name: str) -> bytes:
    """A `name`: LEB128 byte length, then UTF-8."""
    raw = name.encode("utf-8")
    return encode_u32(len(raw)) + raw


def encode_vec(items: list[bytes] | tuple[bytes, ...]) -> bytes:
    """A `vec`: LEB128 count, then the already encoded items."""
    return encode_u32(len(items)) + b"".join(items)


# --- reader ----------------------------------------------------------------------------


class Reader:
    """A cursor over `data[start:end]`; every read checks bounds."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = start
        self.end = len(data) if end is None else end
        if not 0 <= start <= self.end <= len(data):
            raise malformed("reader bounds out of range")

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def at_end(self) -> bool:
        return self.pos >= self.end

    def _truncated(self, what: str) -> InvalidArtifactError:
        return malformed(f"unexpected end of data while reading {what} at offset {self.pos}")

    def byte(self, what: str = "a byte") -> int:
        if self.pos >= self.end:
            raise self._truncated(what)
        value = self.data[self.pos]
        self.pos += 1
        return value

    def peek(self, what: str = "a byte") -> int:
        if self.pos >= self.end:
            raise self._truncated(what)
        return self.data[self.pos]

    def take(self, n: int, what: str = "bytes") -> bytes:
        if n < 0 or n > self.remaining:
            raise self._truncated(what)
        value = self.data[self.pos : self.pos + n]
        self.pos += n
        return value

    def u(self, bits: int = 32, what: str = "an integer") -> int:
        """Unsigned LEB128 of at most `bits` bits (unused bits of the last byte must be 0)."""
        start = self.pos
        result = 0
        shift = 0
        max_bytes = (bits + 6) // 7
        for i in range(max_bytes):
            byte = self.byte(what)
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                if i == max_bytes - 1 and byte >> (bits - shift):
                    raise malformed(f"integer too large for u{bits} in {what} at offset {start}")
                return result
            shift += 7
        raise malformed(f"integer representation too long for u{bits} in {what} at offset {start}")

    def u32(self, what: str = "an integer") -> int:
        return self.u(32, what)

    def s(self, bits: int = 33, what: str = "an integer") -> int:
        """Signed LEB128 of at most `bits` bits (unused bits of the last byte must match the sign)."""
        start = self.pos
        result = 0
        shift = 0
        max_bytes = (bits + 6) // 7
        for i in range(max_bytes):
            byte = self.byte(what)
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                if i == max_bytes - 1:
                    # The bits of the last byte beyond `bits` (and the sign bit) must all equal the sign.
                    used = bits - (shift - 7)
                    rest = (byte & 0x7F) >> (used - 1)
                    if rest not in (0, (1 << (8 - used)) - 1):
                        raise malformed(f"integer too large for s{bits} in {what} at offset {start}")
                if byte & 0x40:
                    result -= 1 << shift
                return result
        raise malformed(f"integer representation too long for s{bits} in {what} at offset {start}")

    def name(self, what: str = "a name") -> str:
        """A `name`: LEB128 byte length, then that many bytes of UTF-8."""
        length = self.u32(what)
        if length > self.remaining:
            raise malformed(f"{what} at offset {self.pos} claims {length} bytes, only {self.remaining} remain")
        raw = self.take(length, what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise malformed(f"{what} at offset {self.pos - length} is not valid UTF-8") from None

    def count(self, what: str, min_item_size: int = 1) -> int:
        """A vec's length, refused when the remaining bytes cannot hold that many items."""
        start = self.pos
        n = self.u32(what)
        if n * min_item_size > self.remaining:
            raise malformed(f"{what} at offset {start} claims {n} items, but only {self.remaining} bytes remain")
        return n

    def expect_end(self, what: str) -> None:
        if self.pos != self.end:
            raise malformed(f"{self.end - self.pos} unexpected trailing bytes after {what} at offset {self.pos}")
