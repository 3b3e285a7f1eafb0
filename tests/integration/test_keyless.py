"""Keyless (Sigstore) signing and verification end to end: `sign --keyless` against a
local Sigstore (testing/sigstore_local.py), bundles attached through Debian's
docker-registry (fallback tag) and through a registry with the referrers API
(testing/referrers.py), verified by mcpkg and by sigstore-js, and a project that pulls,
locks, composes and checks under a requiring identity policy."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import requests

from testing.referrers import ReferrersRegistry
from testing.registry import Registry
from testing.sigstore_local import GITHUB_ISSUER, LocalSigstore, github_claims, github_identity
from tests.conftest import Mcpkg

ROOT = Path(__file__).resolve().parents[2]
BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
WORKFLOW = ".github/workflows/release.yml"
CLAIMS = github_claims("acme/widget", workflow=WORKFLOW, ref="refs/tags/v1.0.0")
IDENTITY = github_identity(CLAIMS)
NO_PROXY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


def keyless_config(sigstore: LocalSigstore, scope: str, rule: str, require: bool = True) -> str:
    return (
        f'[sigstore]\ntrusted-root = "{sigstore.trusted_root_path}"\n'
        f'signing-config = "{sigstore.signing_config_path}"\n'
        f'\n[trust."{scope}"]\nrequire = {"true" if require else "false"}\n'
        f'\n[[trust."{scope}".identities]]\n{rule}\n'
    )


def repository_rule(repository: str = "acme/widget", ref: str = "refs/tags/v*") -> str:
    return f'issuer = "{GITHUB_ISSUER}"\nrepository = "{repository}"\nworkflow = "{WORKFLOW}"\nref = "{ref}"'


def sign_keyless(mcpkg: Mcpkg, sigstore: LocalSigstore, ref: str) -> dict[str, object]:
    token = sigstore.token(CLAIMS)
    result = mcpkg.ok("sign", ref, "--keyless", "--json", env={"SIGSTORE_IDENTITY_TOKEN": token, **NO_PROXY})
    assert token not in result.stdout and token not in result.stderr
    data: dict[str, object] = result.json()
    return data


def push(mcpkg: Mcpkg, fixtures: Path, ref: str) -> str:
    return str(mcpkg.ok("push", str(fixtures / "greeter.wasm"), ref, "--json").json()["digest"])


def test_sign_keyless_with_fallback_tag_then_verify(
    mcpkg: Mcpkg, fixtures: Path, repo: str, registry: Registry, sigstore: LocalSigstore, tmp_path: Path
) -> None:
    digest = push(mcpkg, fixtures, f"{repo}:1.0.0")
    mcpkg.write_config(keyless_config(sigstore, f"{registry.host}/t/*", repository_rule(), require=False))
    signed = sign_keyless(mcpkg, sigstore, f"{repo}:1.0.0")
    assert signed["digest"] == digest and signed["attached-via"] == f"fallback tag sha256-{digest[7:]}"
    assert signed["keyless"] == {"issuer": GITHUB_ISSUER, "identity": IDENTITY}
    again = sign_keyless(mcpkg, sigstore, f"{repo}:1.0.0")  # a second bundle: the index keeps the first
    name = repo.split("/", 1)[1]
    index = requests.get(
        f"http://{registry.host}/v2/{name}/manifests/sha256-{digest[7:]}",
        headers={"Accept": "application/vnd.oci.image.index.v1+json"},
        timeout=10,
    ).json()
    assert [m["digest"] for m in index["manifests"]] == [signed["referrer"], again["referrer"]]
    assert all(m["artifactType"] == BUNDLE_TYPE for m in index["manifests"])
    # the referrer manifest is laid out as cosign v3 lays it out
    manifest = requests.get(
        f"http://{registry.host}/v2/{name}/manifests/{signed['referrer']}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        timeout=10,
    ).json()
    assert manifest["artifactType"] == BUNDLE_TYPE and manifest["subject"]["digest"] == digest
    assert manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    assert manifest["annotations"]["dev.sigstore.bundle.predicateType"] == "https://sigstore.dev/cosign/sign/v1"
    layer = manifest["layers"][0]
    assert layer["mediaType"] == BUNDLE_TYPE
    assert layer["annotations"]["org.opencontainers.image.title"] == f"sha256-{digest[7:]}.sigstore.json"
    bundle = requests.get(f"http://{registry.host}/v2/{name}/blobs/{layer['digest']}", timeout=10).content

    # mcpkg verifies it, with cosign's flags and with the trust policy
    flags = ["--certificate-identity", IDENTITY, "--certificate-oidc-issuer", GITHUB_ISSUER]
    result = mcpkg.ok("verify", f"{repo}:1.0.0", *flags, "--json").json()
    assert result["verified"] is True and result["identities"] == [f"{GITHUB_ISSUER} {IDENTITY}"]
    assert len(result["bundles"]) == 2 and all(b["valid"] for b in result["bundles"])
    first = result["bundles"][0]
    assert first["identity"]["repository"] == "https://github.com/acme/widget"
    assert first["identity"]["ref"] == "refs/tags/v1.0.0" and first["log-index"] is not None
    assert first["source"] == f"fallback tag sha256-{digest[7:]}" and first["integrated-time"]
    assert mcpkg.ok("verify", f"{repo}:1.0.0").stdout.rstrip().endswith("verified")
    evil = ["--certificate-identity", "https://github.com/evil/x", "--certificate-oidc-issuer", GITHUB_ISSUER]
    wrong = mcpkg("verify", f"{repo}:1.0.0", *evil)
    assert wrong.exit_code == 1 and "identity https://github.com/acme/widget" in wrong.stdout + wrong.stderr
    half = mcpkg("verify", f"{repo}:1.0.0", "--certificate-identity", IDENTITY)
    assert half.exit_code == 2 and "go together" in half.stderr
    # with a key only, the bundles are listed with their signer, not verified
    keys = tmp_path / "keys" / "k"
    mcpkg.ok("keygen", "--output-prefix", str(keys), env={"COSIGN_PASSWORD": "pw"})
    mcpkg.ok("sign", f"{repo}:1.0.0", "--key", str(keys.with_suffix(".key")), env={"COSIGN_PASSWORD": "pw"})
    by_key = mcpkg.ok("verify", f"{repo}:1.0.0", "--key", str(keys.with_suffix(".pub")), "--json").json()
    assert by_key["verified"] is True and len(by_key["key-ids"]) == 1 and by_key["identities"] == []
    assert [b["identity"]["identity"] for b in by_key["bundles"]] == [IDENTITY, IDENTITY]
    assert all(b["reason"].startswith("not checked") for b in by_key["bundles"])

    # an independent verifier (sigstore-js) accepts mcpkg's bundle against the same root
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle)
    node_env = {**os.environ, "MCPKG_NODE_PREFIX": str(ROOT / ".venv" / "node")}
    done = subprocess.run(
        ["node", str(ROOT / "testing" / "sigstore_verify.mjs"), str(sigstore.trusted_root_path), str(path),
         "--identity", IDENTITY, "--issuer", GITHUB_ISSUER],
        capture_output=True, text=True, timeout=60, env=node_env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["identity"] == IDENTITY


def test_sign_keyless_through_the_referrers_api(
    mcpkg: Mcpkg, fixtures: Path, referrers_registry: ReferrersRegistry, sigstore: LocalSigstore
) -> None:
    repo = f"{referrers_registry.host}/r/widget"
    digest = push(mcpkg, fixtures, f"{repo}:1.0.0")
    mcpkg.write_config(keyless_config(sigstore, f"{referrers_registry.host}/r/*", repository_rule()))
    signed = sign_keyless(mcpkg, sigstore, f"{repo}:1.0.0")
    assert signed["attached-via"] == "referrers API"
    # an OCI 1.1 registry indexes the subject itself: no fallback tag is written
    assert f"sha256-{digest[7:]}" not in mcpkg.ok("tags", repo, "--all").stdout
    referrers_registry.requests.clear()
    pulled = mcpkg.ok("pull", f"{repo}:1.0.0", "--json").json()
    assert pulled["signature"].startswith("verified (") and IDENTITY in pulled["signature"]
    assert any("/referrers/" in path for _, path in referrers_registry.requests)
    assert not any(f"sha256-{digest[7:]}" in path for _, path in referrers_registry.requests)

    # a registry that ignores the artifactType filter, pads thousands of referrers and pages them
    referrers_registry.ignore_filter = True
    referrers_registry.extra_referrers = 5000
    referrers_registry.page_size = 1000
    try:
        padded = mcpkg.ok("verify", f"{repo}:1.0.0", "--json").json()
        assert padded["verified"] is True and len(padded["bundles"]) == 1
        # past mcpkg's bound (10,000 referrers read) the bundle is not reached, and it says so
        referrers_registry.extra_referrers = 20_000
        bounded = mcpkg("verify", f"{repo}:1.0.0", "--json")
        assert bounded.exit_code == 1
        assert "referrers" in json.dumps(bounded.json()["error"])
        assert mcpkg("pull", f"{repo}:1.0.0").exit_code == 1  # require: nothing verified, nothing pulled
    finally:
        referrers_registry.reset()


def _publish_signed(mcpkg: Mcpkg, roles_dir: Path, sigstore: LocalSigstore, base: str) -> None:
    for name, world in {
        "stdio": "stdio-transport",
        "logger": "middleware",
        "tools": "tools-handler",
        "init": "initialize-handler",
        "writers": "writers",
    }.items():
        mcpkg.ok("push", str(roles_dir / f"{world}.wasm"), f"{base}/{name}:0.1.0")
        sign_keyless(mcpkg, sigstore, f"{base}/{name}:0.1.0")


def _project(root: Path, base: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    parts = "".join(
        f'\n[components.{name}]\nref = "{base}/{name}"\nversion = "^0.1"\n'
        for name in ("stdio", "logger", "tools", "init", "writers")
    )
    text = '[server]\nname = "signed"\ntransport = "stdio"\nchain = ["logger", "tools"]\nterminal = "init"\n' + parts
    (root / "mcpkg.toml").write_text(text)
    return root


def test_project_pulls_locks_composes_and_checks_under_an_identity_policy(
    mcpkg: Mcpkg, registry: Registry, roles_dir: Path, sigstore: LocalSigstore, tmp_path: Path
) -> None:
    base = f"{registry.host}/keyless"
    scope = f"{base}/*"
    mcpkg.write_config(keyless_config(sigstore, scope, repository_rule()))
    _publish_signed(mcpkg, roles_dir, sigstore, base)
    root = _project(tmp_path / "p", base)
    locked = mcpkg.ok("lock", "-C", str(root), "--json").json()
    entries = {c["name"]: c for c in locked["components"]}
    assert entries["tools"]["identities"] == [f"{GITHUB_ISSUER} {IDENTITY}"]
    assert len(entries["tools"]["bundles"]) == 1
    text = (root / "mcpkg.lock").read_text()
    assert "version = 3\n" in text and f'identities = ["{GITHUB_ISSUER} {IDENTITY}"]' in text
    bundle = entries["tools"]["bundles"][0]
    assert bundle[7:] in mcpkg.cached_blobs()  # kept for offline re-checks
    assert mcpkg.ok("lock", "--check", "-C", str(root)).exit_code == 0
    server = tmp_path / "server.wasm"
    mcpkg.ok("compose", "-C", str(root), "-o", str(server), "--locked", "--offline")
    assert server.stat().st_size > 0
    assert mcpkg.ok("check", "-C", str(root)).exit_code == 0
    # `cache prune` keeps the verified bundles as long as their component's entry
    for path in (mcpkg.cache / "blobs" / "sha256").iterdir():
        os.utime(path, (path.stat().st_atime - 7200, path.stat().st_mtime - 7200))
    mcpkg.ok("cache", "prune")
    assert bundle[7:] in mcpkg.cached_blobs()
    mcpkg.ok("compose", "-C", str(root), "-o", str(server), "--locked", "--offline")

    # a bundle the cache lost: --offline refuses, `check` fetches it by its recorded digest
    lost = mcpkg.cache / "blobs" / "sha256" / bundle[7:]
    kept = lost.read_bytes()
    lost.unlink()
    offline = mcpkg("compose", "-C", str(root), "-o", str(tmp_path / "s1.wasm"), "--locked", "--offline")
    assert offline.exit_code == 1 and "names signatures not cached for tools" in offline.stderr
    assert mcpkg.ok("check", "-C", str(root)).exit_code == 0
    assert lost.read_bytes() == kept

    # a bundle in the cache that no longer verifies stops an offline compose
    blob = mcpkg.cache / "blobs" / "sha256" / bundle[7:]
    original = blob.read_bytes()
    blob.chmod(0o644)
    blob.write_bytes(original.replace(b'"mediaType"', b'"mediaType" ', 1))
    tampered = mcpkg("compose", "-C", str(root), "-o", str(tmp_path / "s2.wasm"), "--locked", "--offline")
    assert tampered.exit_code == 1 and "tools" in tampered.stderr
    assert not (tmp_path / "s2.wasm").exists()
    blob.write_bytes(original)

    # a policy change that still accepts the recorded signer leaves the lock fresh ...
    widened = keyless_config(sigstore, scope, repository_rule()) + (
        f'\n[[trust."{scope}".identities]]\nissuer = "{GITHUB_ISSUER}"\nrepository = "acme/other"\n'
    )
    mcpkg.write_config(widened)
    assert mcpkg.ok("lock", "--check", "-C", str(root)).exit_code == 0
    # ... one that no longer does makes lock --check and check fail, naming the component
    mcpkg.write_config(keyless_config(sigstore, scope, repository_rule(ref="refs/heads/*")))
    stale = mcpkg("lock", "--check", "-C", str(root), "--json")
    assert stale.exit_code == 1
    reasons = stale.json()["error"]["details"]["reasons"] if "details" in stale.json()["error"] else []
    message = json.dumps(stale.json())
    assert "tools" in message and "no longer accepts" in message, reasons
    failed = mcpkg("check", "-C", str(root))
    assert failed.exit_code == 1 and "tools" in failed.stdout + failed.stderr
    # the project cannot lower the user's requirement, and lock refuses before writing
    before = (root / "mcpkg.lock").read_bytes()
    refused = mcpkg("lock", "-C", str(root), "--json")
    assert refused.exit_code == 1 and refused.json()["error"]["type"] == "signature"
    assert (root / "mcpkg.lock").read_bytes() == before


def test_an_unsigned_component_is_refused_under_a_requiring_identity_policy(
    mcpkg: Mcpkg, fixtures: Path, repo: str, registry: Registry, sigstore: LocalSigstore
) -> None:
    push(mcpkg, fixtures, f"{repo}:1.0.0")
    mcpkg.write_config(keyless_config(sigstore, f"{registry.host}/t/*", repository_rule()))
    refused = mcpkg("pull", f"{repo}:1.0.0", "--json")
    assert refused.exit_code == 1 and refused.json()["error"]["type"] == "signature"
    assert "unsigned" in refused.json()["error"]["message"]
    # signed by someone the policy does not name: refused with who signed and why
    other = github_claims("mallory/fork", workflow=WORKFLOW, ref="refs/tags/v1.0.0")
    token = sigstore.token(other)
    mcpkg.ok("sign", f"{repo}:1.0.0", "--keyless", env={"SIGSTORE_IDENTITY_TOKEN": token, **NO_PROXY})
    wrong = mcpkg("pull", f"{repo}:1.0.0", "--json")
    assert wrong.exit_code == 1 and "mallory/fork" in wrong.json()["error"]["message"]
    assert not (mcpkg.cache / "entries").exists() or not list((mcpkg.cache / "entries").iterdir())


def test_sign_says_how_to_sign(mcpkg: Mcpkg, repo: str) -> None:
    """Usage errors, before any request or token lookup (exit 2, with the fix)."""
    cases = [
        ((), "say how to sign: --key KEY or --keyless"),
        (("--keyless", "--key", "k.key"), "--key and --keyless exclude each other"),
        (("--key", "k.key", "--identity-token", "t"), "--identity-token is for --keyless signing"),
        (("--keyless",), "no identity token for keyless signing"),
    ]
    for args, message in cases:
        result = mcpkg("sign", f"{repo}:1.0.0", *args, env={"SIGSTORE_IDENTITY_TOKEN": None, "GITHUB_ACTIONS": None})
        assert result.exit_code == 2 and message in result.stderr, (args, result.stderr)
