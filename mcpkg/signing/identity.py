"""Who signed a keyless bundle, and whether a trust policy names them (pure).

A Fulcio certificate binds a short-lived key to an OIDC identity: the subject
alternative name (an email address or a URI, e.g. a GitHub workflow
`https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1`) and extensions
under the Fulcio arc `1.3.6.1.4.1.57264.1` (docs/signing.md): the OIDC issuer (`.1.8`, a
DER UTF8String; `.1.1` in older certificates, raw bytes), the source repository URI
(`.12`), its ref (`.14`) and the build config URI (`.18`, the workflow file and ref the
build ran from: the caller's workflow when a reusable workflow signed).

`[[trust."<scope>".identities]]` entries match as follows (any one entry is enough):
- `issuer`: equal to the certificate's issuer;
- `identity`: equal to the SAN;
- `repository = "owner/name"`: the source repository URI is `https://github.com/owner/name`
  (owner and name compared without case, as GitHub treats them);
- `workflow`: the build config URI, without its `@ref`, names that file of that repository;
- `ref`: a glob (`fnmatch`, `*` crosses `/`) over the source repository ref.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcpkg.config import IdentityRule

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

FULCIO = "1.3.6.1.4.1.57264.1"
OID_ISSUER_V1 = f"{FULCIO}.1"
OID_ISSUER = f"{FULCIO}.8"
OID_BUILD_SIGNER_URI = f"{FULCIO}.9"
OID_SOURCE_REPOSITORY_URI = f"{FULCIO}.12"
OID_SOURCE_REPOSITORY_REF = f"{FULCIO}.14"
OID_BUILD_CONFIG_URI = f"{FULCIO}.18"
GITHUB = "https://github.com/"


@dataclass(frozen=True)
class CertIdentity:
    issuer: str | None
    san: str | None
    repository: str | None = None  # source repository URI
    ref: str | None = None  # source repository ref
    workflow: str | None = None  # build config URI (workflow file @ ref)
    build_signer: str | None = None  # build signer URI (the reusable workflow that signed)

    @property
    def lock_form(self) -> str:
        """`issuer SPACE identity`, as `mcpkg.lock` records a keyless signer."""
        return f"{self.issuer or '?'} {self.san or '?'}"

    def to_json(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "identity": self.san,
            "repository": self.repository,
            "workflow": self.workflow,
            "ref": self.ref,
        }

    def describe(self) -> str:
        text = f"{self.san or 'no identity'} (issuer {self.issuer or 'unknown'})"
        if self.workflow and self.workflow != self.san:
            text += f", built by {self.workflow}"
        return text


def _utf8_string(der: bytes) -> str | None:
    """The text of a DER UTF8String (tag 12), or None when `der` is not one."""
    if len(der) < 2 or der[0] != 0x0C:
        return None
    length, offset = der[1], 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or len(der) < 2 + count:
            return None
        length, offset = int.from_bytes(der[2 : 2 + count], "big"), 2 + count
    if offset + length != len(der):
        return None
    try:
        return der[offset:].decode("utf-8")
    except UnicodeDecodeError:
        return None


def cert_identity(cert: Certificate) -> CertIdentity:
    """The identity fields of a Fulcio certificate (absent ones are None)."""
    from cryptography import x509

    values: dict[str, bytes] = {}
    san: str | None = None
    for ext in cert.extensions:
        oid = ext.oid.dotted_string
        if oid.startswith(FULCIO + ".") and isinstance(ext.value, x509.UnrecognizedExtension):
            values[oid] = ext.value.value
        elif isinstance(ext.value, x509.SubjectAlternativeName):
            names = ext.value.get_values_for_type(x509.UniformResourceIdentifier) or ext.value.get_values_for_type(
                x509.RFC822Name
            )
            san = names[0] if names else None

    def text(oid: str) -> str | None:
        raw = values.get(oid)
        return None if raw is None else _utf8_string(raw)

    issuer = text(OID_ISSUER)
    if issuer is None and OID_ISSUER_V1 in values:
        try:
            issuer = values[OID_ISSUER_V1].decode("utf-8")
        except UnicodeDecodeError:
            issuer = None
    return CertIdentity(
        issuer,
        san,
        text(OID_SOURCE_REPOSITORY_URI),
        text(OID_SOURCE_REPOSITORY_REF),
        text(OID_BUILD_CONFIG_URI),
        text(OID_BUILD_SIGNER_URI),
    )


def _repository_path(uri: str | None, repository: str) -> str | None:
    """What follows `https://github.com/<repository>/` in `uri` (owner and name
    compared without case), or None when `uri` is not under that repository."""
    if uri is None:
        return None
    prefix = (GITHUB + repository + "/").lower()
    if not uri.lower().startswith(prefix):
        return None
    return uri[len(prefix) :]


def mismatch(rule: IdentityRule, who: CertIdentity) -> str | None:
    """Why `who` is not the signer `rule` names (None: it is)."""
    if who.issuer != rule.issuer:
        return f"issuer {who.issuer or 'none'} is not {rule.issuer}"
    if rule.identity is not None and who.san != rule.identity:
        return f"identity {who.san or 'none'} is not {rule.identity}"
    if rule.repository is not None:
        if who.repository is None or who.repository.lower() != (GITHUB + rule.repository).lower():
            return f"source repository {who.repository or 'none'} is not {GITHUB}{rule.repository}"
        if rule.workflow is not None:
            path = _repository_path(who.workflow, rule.repository)
            if path is None or path.partition("@")[0] != rule.workflow.lstrip("/"):
                return f"built by {who.workflow or 'no workflow'}, not {rule.repository}/{rule.workflow}"
        if rule.ref is not None and (who.ref is None or not fnmatch.fnmatchcase(who.ref, rule.ref)):
            return f"source ref {who.ref or 'none'} does not match {rule.ref}"
    return None


def matching_rule(rules: tuple[IdentityRule, ...], who: CertIdentity) -> tuple[IdentityRule | None, str]:
    """The first rule naming `who`, or None with the reason each rule gave."""
    reasons = []
    for rule in rules:
        why = mismatch(rule, who)
        if why is None:
            return rule, "matches " + rule.describe()
        reasons.append(why)
    if not rules:
        return None, "the trust policy names no keyless identities"
    return None, "signer not in the trust policy: " + "; ".join(dict.fromkeys(reasons))
