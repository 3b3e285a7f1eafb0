"""The pure parts of keyless trust: identity matching (identity.py), binding a statement
to a manifest digest (statement.py), the `identities` and `[sigstore]` config, the
refusal of `[sigstore]` in mcpkg.toml, and lock format 3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mcpkg.config import IdentityRule, SigstoreSettings, parse_config
from mcpkg.errors import ConfigError
from mcpkg.project.lockfile import LOCK_VERSION, LockEntry, Lockfile, parse, render
from mcpkg.project.manifest import parse_server_manifest
from mcpkg.signing.identity import CertIdentity, matching_rule, mismatch
from mcpkg.signing.statement import (
    COSIGN_SIGN,
    IN_TOTO_PAYLOAD_TYPE,
    SLSA_PROVENANCE,
    statement_binding,
    statement_for,
)

GITHUB = "https://token.actions.githubusercontent.com"
EMAIL = "https://accounts.google.com"


def github(
    repository: str = "acme/widget",
    workflow: str = ".github/workflows/release.yml",
    ref: str = "refs/tags/v1.2.0",
    san: str | None = None,
) -> CertIdentity:
    """A GitHub Actions certificate identity (the SAN is the workflow unless given)."""
    build = f"https://github.com/{repository}/{workflow}@{ref}"
    return CertIdentity(GITHUB, san or build, f"https://github.com/{repository}", ref, build, san or build)


# --- identity matching ------------------------------------------------------------------------


def test_a_rule_naming_the_repository_matches() -> None:
    assert mismatch(IdentityRule(GITHUB, repository="acme/widget"), github()) is None


def test_the_issuer_must_be_equal() -> None:
    why = mismatch(IdentityRule(EMAIL, repository="acme/widget"), github())
    assert why == f"issuer {GITHUB} is not {EMAIL}"
    who = CertIdentity(None, "a@example.com")
    assert mismatch(IdentityRule(EMAIL, identity="a@example.com"), who) == f"issuer none is not {EMAIL}"


def test_an_exact_identity_must_be_equal() -> None:
    who = CertIdentity(EMAIL, "alice@example.com")
    assert mismatch(IdentityRule(EMAIL, identity="alice@example.com"), who) is None
    why = mismatch(IdentityRule(EMAIL, identity="Alice@example.com"), who)
    assert why == "identity alice@example.com is not Alice@example.com"
    assert mismatch(IdentityRule(EMAIL, identity="alice@example.com"), CertIdentity(EMAIL, None)) is not None


@pytest.mark.parametrize("repository", ["acme/widget", "ACME/Widget", "Acme/WIDGET"])
def test_repository_owner_and_name_compare_without_case(repository: str) -> None:
    rule = IdentityRule(GITHUB, repository=repository, workflow=".github/workflows/release.yml")
    assert mismatch(rule, github()) is None
    assert mismatch(rule, github("ACME/widget")) is None


@pytest.mark.parametrize(
    ("repository", "who"),
    [
        ("acme/widget", github("acme/widget-evil")),
        ("acme/widget", github("acme/other")),
        ("acme/widget", github("evil/widget")),
        ("acme/widget", CertIdentity(GITHUB, "https://github.com/acme/widget/x.yml@refs/heads/main")),
    ],
)
def test_another_source_repository_is_refused(repository: str, who: CertIdentity) -> None:
    why = mismatch(IdentityRule(GITHUB, repository=repository), who)
    assert why is not None and why.startswith("source repository")


@pytest.mark.parametrize("workflow", [".github/workflows/release.yml", "/.github/workflows/release.yml"])
def test_the_workflow_is_the_build_config_file_with_or_without_a_leading_slash(workflow: str) -> None:
    assert mismatch(IdentityRule(GITHUB, repository="acme/widget", workflow=workflow), github()) is None


@pytest.mark.parametrize(
    "workflow",
    [".github/workflows/ci.yml", ".github/workflows/release.yml.evil", "release.yml", ".github/workflows/Release.yml"],
)
def test_another_workflow_is_refused(workflow: str) -> None:
    why = mismatch(IdentityRule(GITHUB, repository="acme/widget", workflow=workflow), github())
    assert why is not None and why.startswith("built by https://github.com/acme/widget/.github/workflows/release.yml")


def test_a_workflow_of_another_repository_is_refused() -> None:
    # the source repository is acme/widget, but the build config names a file of acme/other
    who = CertIdentity(
        GITHUB,
        "https://github.com/acme/other/.github/workflows/release.yml@refs/heads/main",
        "https://github.com/acme/widget",
        "refs/heads/main",
        "https://github.com/acme/other/.github/workflows/release.yml@refs/heads/main",
    )
    rule = IdentityRule(GITHUB, repository="acme/widget", workflow=".github/workflows/release.yml")
    assert mismatch(rule, who) is not None
    assert mismatch(IdentityRule(GITHUB, repository="acme/widget"), who) is None


def test_a_workflow_rule_refuses_a_certificate_without_a_build_config() -> None:
    who = CertIdentity(GITHUB, "https://github.com/acme/widget/x@refs/heads/main", "https://github.com/acme/widget")
    why = mismatch(IdentityRule(GITHUB, repository="acme/widget", workflow="x"), who)
    assert why == "built by no workflow, not acme/widget/x"


@pytest.mark.parametrize(
    ("glob", "ref", "matches"),
    [
        ("refs/tags/v*", "refs/tags/v1.2.0", True),
        ("refs/tags/*", "refs/tags/release/v1", True),  # `*` crosses `/`
        ("refs/heads/main", "refs/heads/main", True),
        ("refs/heads/*", "refs/tags/v1.2.0", False),
        ("refs/tags/v*", "refs/tags/V1.2.0", False),  # case matters
        ("refs/tags/v1.?.0", "refs/tags/v1.2.0", True),
        ("refs/heads/main", "refs/heads/main-evil", False),
    ],
)
def test_the_ref_is_a_glob(glob: str, ref: str, matches: bool) -> None:
    why = mismatch(IdentityRule(GITHUB, repository="acme/widget", ref=glob), github(ref=ref))
    assert (why is None) is matches
    if not matches:
        assert why == f"source ref {ref} does not match {glob}"


def test_a_ref_rule_refuses_a_certificate_without_a_ref() -> None:
    who = CertIdentity(GITHUB, "x", "https://github.com/acme/widget")
    assert mismatch(IdentityRule(GITHUB, repository="acme/widget", ref="*"), who) == "source ref none does not match *"


def test_a_reusable_workflow_is_matched_by_the_caller_and_by_its_san() -> None:
    reusable = "https://github.com/org/shared-workflows/.github/workflows/sign.yml@refs/tags/v2"
    who = github(san=reusable)
    assert who.workflow == "https://github.com/acme/widget/.github/workflows/release.yml@refs/tags/v1.2.0"
    caller = IdentityRule(GITHUB, repository="acme/widget", workflow=".github/workflows/release.yml")
    assert mismatch(caller, who) is None
    assert mismatch(IdentityRule(GITHUB, identity=reusable), who) is None
    assert mismatch(IdentityRule(GITHUB, identity=reusable, repository="acme/widget"), who) is None
    # the reusable workflow's repository is not where the source came from
    assert mismatch(IdentityRule(GITHUB, repository="org/shared-workflows"), who) is not None
    assert mismatch(IdentityRule(GITHUB, repository="acme/widget", workflow=".github/workflows/sign.yml"), who)
    assert "built by" in who.describe() and reusable in who.describe()


def test_matching_rule_returns_the_first_match_and_otherwise_every_reason_once() -> None:
    wrong_issuer = IdentityRule(EMAIL, repository="acme/widget")
    other = IdentityRule(GITHUB, repository="acme/other")
    right = IdentityRule(GITHUB, repository="acme/widget")
    also_right = IdentityRule(GITHUB, repository="acme/widget", ref="refs/tags/*")
    rule, why = matching_rule((wrong_issuer, right, also_right), github())
    assert rule is right and why == "matches " + right.describe()

    rule, why = matching_rule((wrong_issuer, other, wrong_issuer), github())
    assert rule is None
    assert why.startswith("signer not in the trust policy: ")
    assert why.count(f"issuer {GITHUB} is not {EMAIL}") == 1
    assert "source repository https://github.com/acme/widget is not https://github.com/acme/other" in why

    rule, why = matching_rule((), github())
    assert rule is None and why == "the trust policy names no keyless identities"


def test_lock_form_and_json() -> None:
    who = github()
    assert who.lock_form == f"{GITHUB} https://github.com/acme/widget/.github/workflows/release.yml@refs/tags/v1.2.0"
    assert CertIdentity(None, None).lock_form == "? ?"
    assert who.to_json()["repository"] == "https://github.com/acme/widget"
    assert who.to_json()["identity"] == who.san


# --- binding a statement to the manifest digest --------------------------------------------------

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32


def statement(
    *digests: str, predicate: Any = COSIGN_SIGN, kind: Any = "https://in-toto.io/Statement/v1", **extra: Any
) -> bytes:
    subjects = [{"name": f"artifact-{i}", "digest": {"sha256": d.partition(":")[2]}} for i, d in enumerate(digests)]
    return json.dumps(
        {"_type": kind, "subject": subjects, "predicateType": predicate, "predicate": {}, **extra}
    ).encode()


def test_statement_for_is_cosigns_one_subject_statement() -> None:
    body = statement_for(DIGEST)
    assert body["subject"] == [{"digest": {"sha256": "ab" * 32}}]
    assert body["predicateType"] == COSIGN_SIGN
    payload = json.dumps(body).encode()
    assert statement_binding(IN_TOTO_PAYLOAD_TYPE, payload, DIGEST) == (COSIGN_SIGN, None)


@pytest.mark.parametrize("kind", ["https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1"])
def test_one_subject_naming_the_digest_is_bound(kind: str) -> None:
    assert statement_binding(IN_TOTO_PAYLOAD_TYPE, statement(DIGEST, kind=kind), DIGEST) == (COSIGN_SIGN, None)


def test_the_subject_digest_compares_without_case() -> None:
    payload = statement("sha256:" + "AB" * 32)
    assert statement_binding(IN_TOTO_PAYLOAD_TYPE, payload, DIGEST) == (COSIGN_SIGN, None)


def test_a_cosign_signature_with_two_subjects_is_refused() -> None:
    predicate, why = statement_binding(IN_TOTO_PAYLOAD_TYPE, statement(DIGEST, OTHER), DIGEST)
    assert predicate == COSIGN_SIGN
    assert why == "a cosign signature statement names one subject; this one names 2"


def test_provenance_over_several_subjects_binds_when_one_is_the_digest() -> None:
    payload = statement(OTHER, DIGEST, "sha256:" + "ef" * 32, predicate=SLSA_PROVENANCE)
    assert statement_binding(IN_TOTO_PAYLOAD_TYPE, payload, DIGEST) == (SLSA_PROVENANCE, None)
    predicate, why = statement_binding(IN_TOTO_PAYLOAD_TYPE, statement(OTHER, predicate=SLSA_PROVENANCE), DIGEST)
    assert predicate == SLSA_PROVENANCE and why == f"signs another digest ({OTHER})"


def test_another_digest_is_refused_and_named() -> None:
    assert statement_binding(IN_TOTO_PAYLOAD_TYPE, statement(OTHER), DIGEST) == (
        COSIGN_SIGN,
        f"signs another digest ({OTHER})",
    )
    many = [f"sha256:{i:064x}" for i in range(5)]
    _, why = statement_binding(IN_TOTO_PAYLOAD_TYPE, statement(*many, predicate=SLSA_PROVENANCE), DIGEST)
    assert why is not None and why.endswith(", ...)") and many[3] not in why


def test_subjects_without_the_algorithm_are_refused() -> None:
    payload = json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"digest": {"sha512": "00"}}, "junk"],
            "predicateType": SLSA_PROVENANCE,
        }
    ).encode()
    assert statement_binding(IN_TOTO_PAYLOAD_TYPE, payload, DIGEST) == (
        SLSA_PROVENANCE,
        "no subject carries a sha256 digest",
    )


@pytest.mark.parametrize("subjects", [[], None, "sha256:abc", {"digest": {}}])
def test_a_statement_without_subjects_is_refused(subjects: Any) -> None:
    payload = json.dumps(
        {"_type": "https://in-toto.io/Statement/v1", "subject": subjects, "predicateType": COSIGN_SIGN}
    ).encode()
    assert statement_binding(IN_TOTO_PAYLOAD_TYPE, payload, DIGEST) == (COSIGN_SIGN, "the statement names no subject")


def test_too_many_subjects_are_refused() -> None:
    payload = statement(*([OTHER] * 1025), DIGEST, predicate=SLSA_PROVENANCE)
    _, why = statement_binding(IN_TOTO_PAYLOAD_TYPE, payload, DIGEST)
    assert why is not None and "more than mcpkg reads (1024)" in why


@pytest.mark.parametrize("kind", ["https://in-toto.io/Statement/v2", None, 1, "Statement"])
def test_a_statement_of_another_type_is_refused(kind: Any) -> None:
    predicate, why = statement_binding(IN_TOTO_PAYLOAD_TYPE, statement(DIGEST, kind=kind), DIGEST)
    assert predicate == COSIGN_SIGN
    assert why == f"statement type {kind!r} is not in-toto's"


@pytest.mark.parametrize("payload_type", ["application/vnd.dev.cosign.simplesigning.v1+json", "text/plain", ""])
def test_another_payload_type_is_refused(payload_type: str) -> None:
    predicate, why = statement_binding(payload_type, statement(DIGEST), DIGEST)
    assert predicate is None
    assert why == f"the envelope carries {payload_type!r}, not an in-toto statement"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1]", "not a JSON object"),
        (b'"x"', "not a JSON object"),
    ],
)
def test_a_payload_that_is_not_a_json_object_is_refused(payload: bytes, reason: str) -> None:
    predicate, why = statement_binding(IN_TOTO_PAYLOAD_TYPE, payload, DIGEST)
    assert predicate is None and why is not None and reason in why


@pytest.mark.parametrize(
    "predicate",
    ["https://cosign.sigstore.dev/attestation/v1", "https://slsa.dev/provenance/v0.2", "https://spdx.dev/Document", 7],
)
def test_a_predicate_type_that_is_not_a_signature_or_provenance_is_refused(predicate: Any) -> None:
    got, why = statement_binding(IN_TOTO_PAYLOAD_TYPE, statement(DIGEST, predicate=predicate), DIGEST)
    assert got == (predicate if isinstance(predicate, str) else None)
    assert why is not None and why.startswith("predicate type") and COSIGN_SIGN in why and SLSA_PROVENANCE in why


# --- config: `identities` and `[sigstore]` ------------------------------------------------------

CONFIG = Path("/home/u/.config/mcpkg/config.toml")
SCOPE = "ghcr.io/acme/*"


def identities(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"trust": {SCOPE: {"identities": list(entries)}}}


def config_error(data: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, CONFIG)
    assert str(CONFIG) in caught.value.message
    return caught.value


def test_identities_parse_into_rules() -> None:
    config = parse_config(
        identities(
            {
                "issuer": GITHUB,
                "repository": "https://github.com/acme/widget/",
                "workflow": ".github/workflows/r.yml",
                "ref": "refs/tags/v*",
            },
            {"issuer": EMAIL, "identity": "alice@example.com"},
        ),
        CONFIG,
    )
    (scope,) = config.trust
    assert scope.identities == (
        IdentityRule(GITHUB, None, "acme/widget", ".github/workflows/r.yml", "refs/tags/v*"),
        IdentityRule(EMAIL, "alice@example.com"),
    )
    assert config.sigstore == SigstoreSettings()


def test_an_identity_without_issuer_is_refused() -> None:
    error = config_error(identities({"repository": "acme/widget"}))
    assert "has no `issuer`" in error.message
    assert f'trust."{SCOPE}".identities[0]' in error.message


def test_an_identity_naming_neither_identity_nor_repository_is_refused() -> None:
    error = config_error(identities({"issuer": GITHUB, "ref": "refs/tags/*"}))
    assert "names neither `identity` nor `repository`" in error.message
    assert "would trust anyone" in error.message
    assert config_error(identities({"issuer": GITHUB})).message.count("neither") == 1


def test_workflow_or_ref_without_repository_is_refused() -> None:
    for key in ("workflow", "ref"):
        error = config_error(identities({"issuer": GITHUB, "identity": "x@example.com", key: "y"}))
        assert "without `repository`" in error.message


@pytest.mark.parametrize("repository", ["widget", "acme/widget/extra", "https://github.com/acme", "a/b/c"])
def test_a_repository_that_is_not_owner_slash_name_is_refused(repository: str) -> None:
    error = config_error(identities({"issuer": GITHUB, "repository": repository}))
    assert "is not `owner/name`" in error.message


def test_a_workflow_carrying_a_ref_is_refused() -> None:
    error = config_error(identities({"issuer": GITHUB, "repository": "a/b", "workflow": "x.yml@refs/heads/main"}))
    assert "carries a ref" in error.message


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"issuer": GITHUB, "repository": "a/b", "subject": "x"}, "unknown key"),
        ({"issuer": GITHUB, "repository": "a/b", "ref": 3}, "must be a str"),
        ({"issuer": "  ", "repository": "a/b"}, "is empty"),
        ({"issuer": GITHUB, "identity": ""}, "is empty"),
    ],
)
def test_bad_identity_entries_are_refused(entry: dict[str, Any], message: str) -> None:
    assert message in config_error(identities(entry)).message


def test_identities_must_be_a_list_of_tables() -> None:
    assert "must be a list" in config_error({"trust": {SCOPE: {"identities": {"issuer": GITHUB}}}}).message
    assert "must be a dict" in config_error(identities("issuer")).message  # type: ignore[arg-type]


def test_sigstore_paths_are_relative_to_the_config_directory() -> None:
    config = parse_config(
        {"sigstore": {"trusted-root": "roots/trusted_root.json", "signing-config": "/etc/sc.json"}}, CONFIG
    )
    assert config.sigstore.trusted_root == CONFIG.parent / "roots" / "trusted_root.json"
    assert config.sigstore.signing_config == Path("/etc/sc.json")
    assert parse_config({"sigstore": {}}, CONFIG).sigstore == SigstoreSettings(None, None)


def test_unknown_keys_and_wrong_types_in_sigstore_are_refused() -> None:
    error = config_error({"sigstore": {"trusted-root": "r.json", "rekor-url": "https://rekor.example"}})
    assert "unknown key `sigstore.rekor-url`" in error.message
    assert error.hint is not None and "trusted-root" in error.hint
    assert "must be a str" in config_error({"sigstore": {"trusted-root": 1}}).message
    assert "must be a dict" in config_error({"sigstore": "root.json"}).message


# --- a project may not choose the trust material ------------------------------------------------

MANIFEST = """\
[server]
name = "demo"
transport = "transport"
terminal = "terminal"

[components.transport]
path = "transport.wasm"

[components.terminal]
path = "terminal.wasm"

[trust."ghcr.io/acme/*"]
identities = [{ issuer = "https://token.actions.githubusercontent.com", repository = "acme/widget" }]
"""


def test_a_manifest_may_name_identities() -> None:
    manifest = parse_server_manifest(MANIFEST, Path("mcpkg.toml"))
    (scope,) = manifest.trust
    assert scope.identities == (IdentityRule(GITHUB, repository="acme/widget"),)


def test_a_sigstore_table_in_the_manifest_is_refused() -> None:
    text = MANIFEST + '\n[sigstore]\ntrusted-root = "evil-root.json"\n'
    with pytest.raises(ConfigError) as caught:
        parse_server_manifest(text, Path("mcpkg.toml"))
    assert "[sigstore] belongs in the user's config, not in a project" in caught.value.message
    line = text.splitlines().index("[sigstore]") + 1
    assert caught.value.message.startswith(f"mcpkg.toml:{line}: `sigstore`:")  # the line of the table
    assert caught.value.hint is not None and "config.toml" in caught.value.hint


# --- lock format 3 ---------------------------------------------------------------------------------

SIGNER = f"{GITHUB} https://github.com/acme/widget/.github/workflows/release.yml@refs/tags/v1.2.0"
BUNDLE = "sha256:" + "12" * 32


def registry_entry(**fields: Any) -> LockEntry:
    return LockEntry(
        "widget",
        "service",
        "registry",
        "sha256:" + "ab" * 32,
        10,
        ("wasi:cli/run@0.2.3",),
        ("acme:widget/tools@1.0.0",),
        reference="ghcr.io/acme/widget:1.2.0",
        requirement="^1.2",
        version="1.2.0",
        digest="sha256:" + "cd" * 32,
        **fields,
    )


def lockfile(*entries: LockEntry, version: int = LOCK_VERSION) -> Lockfile:
    return Lockfile("sha256:" + "00" * 32, "demo", "transport", (), "terminal", entries, version=version)


def test_lock_format_3_records_identities_and_bundles() -> None:
    assert LOCK_VERSION == 3
    lock = lockfile(registry_entry(signatures=("SHA256:abc=",), identities=(SIGNER,), bundles=(BUNDLE,)))
    data = render(lock)
    text = data.decode()
    assert "version = 3\n" in text
    assert f"identities = {json.dumps([SIGNER])}\n" in text
    assert f'bundles = ["{BUNDLE}"]\n' in text
    back = parse(data, Path("mcpkg.lock"))
    assert back == lock and render(back) == data
    entry = back.entry("widget")
    assert entry is not None and entry.identities == (SIGNER,) and entry.bundles == (BUNDLE,)


def test_lock_format_3_writes_empty_keyless_lists() -> None:
    text = render(lockfile(registry_entry())).decode()
    assert "signatures = []\nidentities = []\nbundles = []\n" in text


def test_a_bundle_that_is_not_a_digest_is_refused() -> None:
    text = render(lockfile(registry_entry(bundles=(BUNDLE,)))).decode().replace(BUNDLE, "sha256:nothex")
    with pytest.raises(ConfigError) as caught:
        parse(text.encode(), Path("mcpkg.lock"))
    assert "bundles" in caught.value.message and "is not a sha256 digest" in caught.value.message


V2_LOCK = """\
# This file is generated by mcpkg. Do not edit it by hand.
version = 2
manifest-hash = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

[server]
name = "demo"
transport = "transport"
chain = []
terminal = "terminal"

[[component]]
name = "widget"
position = "service"
source = "registry"
reference = "ghcr.io/acme/widget:1.2.0"
requirement = "^1.2"
version = "1.2.0"
digest = "sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
layer-digest = "sha256:abababababababababababababababababababababababababababababababab"
size = 10
imports = ["wasi:cli/run@0.2.3"]
exports = ["acme:widget/tools@1.0.0"]
signatures = ["SHA256:abc="]
"""


def test_a_version_2_lock_is_read_and_rendered_unchanged() -> None:
    lock = parse(V2_LOCK.encode(), Path("mcpkg.lock"))
    assert lock.version == 2
    assert lock == lockfile(registry_entry(signatures=("SHA256:abc=",)), version=2)
    assert render(lock).decode() == V2_LOCK


@pytest.mark.parametrize("key", ["identities", "bundles"])
def test_a_version_2_lock_carrying_keyless_records_is_refused(key: str) -> None:
    text = V2_LOCK + f'{key} = ["{BUNDLE}"]\n'
    with pytest.raises(ConfigError) as caught:
        parse(text.encode(), Path("mcpkg.lock"))
    assert f"`component[0].{key}` is not part of lock format 2" in caught.value.message
