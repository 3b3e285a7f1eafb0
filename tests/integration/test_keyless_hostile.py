"""Hostile and broken keyless material: each crafted bundle, referrer or config is refused
(or handled) with a clear reason, and nothing of it is cached as trusted. Bundles are
made offline by a local Sigstore (testing/sigstore_local.py) and attached as cosign v3
attaches them (mcpkg.signing.referrers.attach_bundle)."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mcpkg.config import RegistrySettings
from mcpkg.oci.artifact import OCI_MANIFEST, Descriptor
from mcpkg.oci.client import RegistryClient
from mcpkg.reference import Digest
from mcpkg.signing.referrers import attach_bundle
from mcpkg.signing.statement import COSIGN_SIGN, statement_for
from testing.referrers import ReferrersRegistry
from testing.registry import Registry
from testing.sigstore_local import GITHUB_ISSUER, LocalSigstore
from tests.conftest import Mcpkg
from tests.integration.test_keyless import (
    BUNDLE_TYPE,
    CLAIMS,
    IDENTITY,
    NO_PROXY,
    keyless_config,
    push,
    repository_rule,
)

CUSTOM_PREDICATE = "https://example.com/custom/v1"


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSigstore]:
    """Another Sigstore instance: its CA, logs and OIDC issuer are not the trusted ones."""
    with LocalSigstore(tmp_path_factory.mktemp("foreign-sigstore"), name="mcpkg-foreign-sigstore") as instance:
        yield instance


def _split(ref: str) -> tuple[str, str]:
    host, _, rest = ref.partition("/")
    return host, rest.split(":", 1)[0]


def _manifest(repo: str, digest: str) -> bytes:
    host, name = _split(repo)
    response = requests.get(f"http://{host}/v2/{name}/manifests/{digest}", headers={"Accept": OCI_MANIFEST}, timeout=10)
    response.raise_for_status()
    assert hashlib.sha256(response.content).hexdigest() == digest[7:]
    return response.content


def _attach(repo: str, digest: str, bundle: bytes, predicate_type: str = COSIGN_SIGN, host: str | None = None) -> str:
    """Attach `bundle` to `repo@digest` as cosign v3 does; returns how it is found."""
    registry, name = _split(repo)
    size = len(_manifest(repo, digest))
    client = RegistryClient(host or registry, RegistrySettings())
    subject = Descriptor(OCI_MANIFEST, Digest.parse(digest), size)
    _, how = attach_bundle(client, name, subject, bundle, predicate_type)
    return how


def _statement(digest: str, **changes: Any) -> bytes:
    body = statement_for(digest)
    body.update(changes)
    return json.dumps(body, separators=(",", ":")).encode()


def _bundle_hex(bundle: bytes) -> str:
    return hashlib.sha256(bundle).hexdigest()


def _signed_repo(mcpkg: Mcpkg, fixtures: Path, repo: str, registry: Registry, sigstore: LocalSigstore) -> str:
    digest = push(mcpkg, fixtures, f"{repo}:1.0.0")
    mcpkg.write_config(keyless_config(sigstore, f"{registry.host}/t/*", repository_rule()))
    return digest


def _refused(mcpkg: Mcpkg, ref: str, tmp_path: Path) -> str:
    """`pull` under the requiring policy fails as a signature error and writes nothing."""
    out = tmp_path / "out.wasm"
    result = mcpkg("pull", ref, "--json", "-o", str(out))
    assert result.exit_code == 1, result.stdout + result.stderr
    error = result.json()["error"]
    assert error["type"] == "signature", error
    assert not out.exists()
    return json.dumps(error)


def _nothing_cached(mcpkg: Mcpkg, *bundles: bytes) -> None:
    cached = mcpkg.cached_blobs()
    for bundle in bundles:
        assert _bundle_hex(bundle) not in cached
    entries = mcpkg.cache / "entries"
    assert not entries.exists() or not list(entries.iterdir())


def _one_bundle(mcpkg: Mcpkg, ref: str) -> dict[str, Any]:
    """`verify --json` fails and lists the one bundle found, invalid."""
    result = mcpkg("verify", ref, "--json")
    assert result.exit_code == 1, result.stdout + result.stderr
    error = result.json()["error"]
    assert error["type"] == "signature" and error["details"]["verified"] is False
    bundles: list[dict[str, Any]] = error["details"]["bundles"]
    assert len(bundles) == 1 and bundles[0]["valid"] is False, bundles
    return bundles[0]


HOSTILE = ["expired-certificate", "two-signatures", "two-subjects", "another-digest", "custom-predicate", "foreign"]


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_bundle_is_refused_and_nothing_is_trusted(
    case: str,
    mcpkg: Mcpkg,
    fixtures: Path,
    repo: str,
    registry: Registry,
    sigstore: LocalSigstore,
    foreign: LocalSigstore,
    tmp_path: Path,
) -> None:
    digest = _signed_repo(mcpkg, fixtures, repo, registry, sigstore)
    token = sigstore.token(CLAIMS)
    predicate = COSIGN_SIGN
    if case == "expired-certificate":  # expired before the log integrated the signature
        bundle = sigstore.issue_bundle_dsse(
            _statement(digest),
            token=token,
            cert_not_before=datetime.timedelta(minutes=-30),
            cert_not_after=datetime.timedelta(minutes=-20),
        )
        expected = "not valid at validation time"  # sigstore-python's words, kept in mcpkg's reason
    elif case == "two-signatures":
        bundle = sigstore.issue_bundle_dsse(_statement(digest), token=token, extra_signature=True)
        expected = "2 signatures"
    elif case == "two-subjects":
        other = "sha256:" + hashlib.sha256(b"another artifact").hexdigest()
        subjects = [{"digest": {"sha256": digest[7:]}}, {"digest": {"sha256": other[7:]}}]
        bundle = sigstore.issue_bundle_dsse(_statement(digest, subject=subjects), token=token)
        expected = "names 2"
    elif case == "another-digest":
        other = "sha256:" + hashlib.sha256(b"another manifest").hexdigest()
        bundle = sigstore.issue_bundle_dsse(_statement(other), token=token)
        expected = "signs another digest"
    elif case == "custom-predicate":
        bundle = sigstore.issue_bundle_dsse(_statement(digest, predicateType=CUSTOM_PREDICATE), token=token)
        predicate = CUSTOM_PREDICATE
        expected = CUSTOM_PREDICATE
    else:
        bundle = foreign.issue_bundle_dsse(_statement(digest), token=foreign.token(CLAIMS))
        expected = "does not verify against the trusted root"
    data = bundle.encode()
    _attach(repo, digest, data, predicate)

    verdict = _one_bundle(mcpkg, f"{repo}:1.0.0")
    assert expected in verdict["reason"], verdict
    if case != "foreign":
        assert verdict["digest"] == "sha256:" + _bundle_hex(data)
    message = _refused(mcpkg, f"{repo}:1.0.0", tmp_path)
    assert expected in message, message
    _nothing_cached(mcpkg, data)


def test_a_bundle_larger_than_mcpkg_reads_is_refused(
    mcpkg: Mcpkg, fixtures: Path, repo: str, registry: Registry, sigstore: LocalSigstore, tmp_path: Path
) -> None:
    digest = _signed_repo(mcpkg, fixtures, repo, registry, sigstore)
    body = json.loads(sigstore.issue_bundle_dsse(_statement(digest), token=sigstore.token(CLAIMS)))
    body["padding"] = "x" * (3 * 1024 * 1024)
    data = json.dumps(body).encode()
    assert len(data) > 3 * 1024 * 1024
    _attach(repo, digest, data)
    message = _refused(mcpkg, f"{repo}:1.0.0", tmp_path)
    assert "more than mcpkg reads" in message, message
    _nothing_cached(mcpkg, data)


def test_a_referrer_to_a_missing_manifest_is_listed_unavailable(
    mcpkg: Mcpkg, fixtures: Path, referrers_registry: ReferrersRegistry, sigstore: LocalSigstore, tmp_path: Path
) -> None:
    repo = f"{referrers_registry.host}/r/missing"
    push(mcpkg, fixtures, f"{repo}:1.0.0")
    mcpkg.write_config(keyless_config(sigstore, f"{referrers_registry.host}/r/*", repository_rule()))
    missing = "sha256:" + hashlib.sha256(b"a referrer manifest never pushed").hexdigest()
    referrers_registry.inject = [
        {"mediaType": OCI_MANIFEST, "digest": missing, "size": 600, "artifactType": BUNDLE_TYPE}
    ]
    try:
        verdict = _one_bundle(mcpkg, f"{repo}:1.0.0")
        assert verdict["digest"] == missing and verdict["source"] == "referrers API"
        assert "unavailable" in verdict["reason"] and missing in verdict["reason"], verdict
        message = _refused(mcpkg, f"{repo}:1.0.0", tmp_path)
        assert "unavailable" in message, message
        _nothing_cached(mcpkg)
    finally:
        referrers_registry.reset()


def test_a_referrer_whose_bundle_blob_is_missing_is_listed_unavailable(
    mcpkg: Mcpkg, fixtures: Path, repo: str, registry: Registry, sigstore: LocalSigstore, tmp_path: Path
) -> None:
    digest = _signed_repo(mcpkg, fixtures, repo, registry, sigstore)
    bundle = sigstore.issue_bundle_dsse(_statement(digest), token=sigstore.token(CLAIMS)).encode()
    _attach(repo, digest, bundle)
    registry.blob_data_path(f"sha256:{_bundle_hex(bundle)}").unlink()  # the registry lost the blob
    verdict = _one_bundle(mcpkg, f"{repo}:1.0.0")
    assert verdict["source"] == f"fallback tag sha256-{digest[7:]}"
    assert "unavailable or corrupt" in verdict["reason"], verdict
    assert "unavailable" in _refused(mcpkg, f"{repo}:1.0.0", tmp_path)
    _nothing_cached(mcpkg, bundle)


def test_a_failing_referrers_api_is_an_error_and_a_missing_one_falls_back_to_the_tag(
    mcpkg: Mcpkg, fixtures: Path, referrers_registry: ReferrersRegistry, sigstore: LocalSigstore, tmp_path: Path
) -> None:
    repo = f"{referrers_registry.host}/r/status"
    digest = push(mcpkg, fixtures, f"{repo}:1.0.0")
    mcpkg.write_config(keyless_config(sigstore, f"{referrers_registry.host}/r/*", repository_rule()))
    # a bundle only in the fallback index: attached through the upstream, which has no referrers API
    bundle = sigstore.issue_bundle_dsse(_statement(digest), token=sigstore.token(CLAIMS)).encode()
    how = _attach(repo, digest, bundle, host=referrers_registry.upstream.host)
    assert how == f"fallback tag sha256-{digest[7:]}"
    try:
        referrers_registry.referrers_status = 500
        out = tmp_path / "500.wasm"
        failed = mcpkg("pull", f"{repo}:1.0.0", "--json", "-o", str(out))
        assert failed.exit_code == 1, failed.stdout + failed.stderr
        assert failed.json()["error"]["type"] == "registry", failed.stdout
        assert "500" in json.dumps(failed.json()["error"]) and not out.exists()
        _nothing_cached(mcpkg, bundle)

        referrers_registry.referrers_status = 404
        referrers_registry.requests.clear()
        pulled = mcpkg.ok("pull", f"{repo}:1.0.0", "--json").json()
        assert pulled["signature"].startswith("verified (") and IDENTITY in pulled["signature"]
        assert any(path.endswith(f"/manifests/sha256-{digest[7:]}") for _, path in referrers_registry.requests)
    finally:
        referrers_registry.reset()


def test_a_message_signature_over_the_manifest_is_accepted_and_over_other_bytes_refused(
    mcpkg: Mcpkg, fixtures: Path, repo: str, registry: Registry, sigstore: LocalSigstore, tmp_path: Path
) -> None:
    digest = _signed_repo(mcpkg, fixtures, repo, registry, sigstore)
    other = sigstore.issue_bundle_message(b"not the manifest", token=sigstore.token(CLAIMS)).encode()
    _attach(repo, digest, other)
    message = _refused(mcpkg, f"{repo}:1.0.0", tmp_path)
    assert "signs another digest" in message, message
    _nothing_cached(mcpkg, other)

    good = sigstore.issue_bundle_message(_manifest(repo, digest), token=sigstore.token(CLAIMS)).encode()
    _attach(repo, digest, good)
    out = tmp_path / "ok.wasm"
    pulled = mcpkg.ok("pull", f"{repo}:1.0.0", "--json", "-o", str(out)).json()
    assert pulled["signature"].startswith("verified (") and IDENTITY in pulled["signature"]
    assert out.stat().st_size > 0
    cached = mcpkg.cached_blobs()
    assert _bundle_hex(good) in cached and _bundle_hex(other) not in cached


CONFIG_ERRORS = {
    "no-issuer": ('repository = "acme/widget"', "has no `issuer`"),
    "trusts-anyone": (f'issuer = "{GITHUB_ISSUER}"', "names neither `identity` nor `repository`"),
}


@pytest.mark.parametrize("case", sorted(CONFIG_ERRORS))
def test_an_identity_entry_that_would_trust_too_much_is_a_config_error(
    case: str, mcpkg: Mcpkg, repo: str, registry: Registry, sigstore: LocalSigstore, tmp_path: Path
) -> None:
    rule, expected = CONFIG_ERRORS[case]
    mcpkg.write_config(keyless_config(sigstore, f"{registry.host}/t/*", rule))
    out = tmp_path / "out.wasm"
    for args in (("tags", repo), ("pull", f"{repo}:1.0.0", "-o", str(out))):
        result = mcpkg(*args)
        assert result.exit_code == 1 and expected in result.stdout + result.stderr, result
    assert not out.exists()


@pytest.mark.parametrize("content", [None, "{not json"])
def test_a_missing_or_invalid_trusted_root_is_a_config_error(
    content: str | None,
    mcpkg: Mcpkg,
    fixtures: Path,
    repo: str,
    registry: Registry,
    sigstore: LocalSigstore,
    tmp_path: Path,
) -> None:
    digest = _signed_repo(mcpkg, fixtures, repo, registry, sigstore)
    bundle = sigstore.issue_bundle_dsse(_statement(digest), token=sigstore.token(CLAIMS)).encode()
    _attach(repo, digest, bundle)
    root = tmp_path / "trusted_root.json"
    if content is not None:
        root.write_text(content)
    config = keyless_config(sigstore, f"{registry.host}/t/*", repository_rule())
    mcpkg.write_config(config.replace(str(sigstore.trusted_root_path), str(root)))
    out = tmp_path / "out.wasm"
    result = mcpkg("pull", f"{repo}:1.0.0", "-o", str(out))
    text = result.stdout + result.stderr
    assert result.exit_code == 1, text
    assert str(root) in text and ("does not exist" if content is None else "not a valid Sigstore trusted root") in text
    assert not out.exists()
    _nothing_cached(mcpkg, bundle)


def test_a_sigstore_table_in_a_project_is_refused(
    mcpkg: Mcpkg, registry: Registry, sigstore: LocalSigstore, tmp_path: Path
) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "mcpkg.toml").write_text(
        '[server]\nname = "x"\ntransport = "stdio"\nchain = []\nterminal = "init"\n'
        f'\n[components.init]\nref = "{registry.host}/t/none"\nversion = "^0.1"\n'
        f'\n[sigstore]\ntrusted-root = "{sigstore.trusted_root_path}"\n'
    )
    result = mcpkg("lock", "-C", str(root))
    assert result.exit_code == 1
    assert "belongs in the user's config" in result.stdout + result.stderr
    assert not (root / "mcpkg.lock").exists()


def test_the_identity_token_never_appears_in_the_output(
    mcpkg: Mcpkg, fixtures: Path, repo: str, registry: Registry, sigstore: LocalSigstore, foreign: LocalSigstore
) -> None:
    _signed_repo(mcpkg, fixtures, repo, registry, sigstore)
    token = foreign.token(CLAIMS)  # not one of the local Fulcio's issuer: refused
    for extra in ((), ("--json",)):
        result = mcpkg("sign", f"{repo}:1.0.0", "--keyless", "--identity-token", token, *extra, env=NO_PROXY)
        assert result.exit_code == 1, result.stdout + result.stderr
        assert token not in result.stdout and token not in result.stderr
        for part in token.split("."):
            assert part not in result.stdout and part not in result.stderr
    tags = mcpkg.ok("tags", repo, "--all").stdout
    assert "sha256-" not in tags  # nothing was attached
