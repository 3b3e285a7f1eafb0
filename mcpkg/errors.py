"""The one error tree of mcpkg.

Every error carries a message (what went wrong) and a hint (what to do next). The
CLI maps the class to an exit code and a stable `type` string for `--json` output.
Messages must never contain credentials or tokens.
"""

from __future__ import annotations

from typing import Any


class McpkgError(Exception):
    """Base class: the operation failed (exit code 1)."""

    exit_code = 1
    kind = "error"

    def __init__(self, message: str, hint: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details  # machine-readable context for `--json` output

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class UsageError(McpkgError):
    """Bad command-line input: malformed reference, requirement, option (exit code 2)."""

    exit_code = 2
    kind = "usage"


class ConfigError(McpkgError):
    """A configuration or project file is malformed."""

    kind = "config"


class NotFoundError(McpkgError):
    """A repository, tag, manifest, blob or file does not exist."""

    kind = "not-found"


class AuthError(McpkgError):
    """The registry refused our credentials or asked for some."""

    kind = "authentication"


class IntegrityError(McpkgError):
    """Content does not match its digest or size."""

    kind = "integrity"


class InvalidArtifactError(McpkgError):
    """An artifact is not a Wasm component laid out as the Wasm OCI artifact spec says."""

    kind = "invalid-artifact"


class RegistryError(McpkgError):
    """The registry failed, misbehaved or could not be reached."""

    kind = "registry"


class ConflictError(McpkgError):
    """The operation would overwrite something it must not (a release tag, a file)."""

    kind = "conflict"


class IncompatibleError(McpkgError):
    """Components do not fit together (types, wiring, roles)."""

    kind = "incompatible"


class SignatureError(McpkgError):
    """A required signature is missing or does not verify."""

    kind = "signature"
