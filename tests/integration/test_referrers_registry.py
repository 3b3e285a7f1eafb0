"""testing/referrers.py: a docker-registry behind our proxy has the OCI 1.1 referrers API,
relays everything else (chunked uploads included), and misbehaves when told to."""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from testing.referrers import JUNK_ARTIFACT_TYPE, OCI_INDEX, OCI_MANIFEST, ReferrersRegistry, running_referrers_registry

SIGSTORE = "application/vnd.dev.sigstore.bundle.v0.3+json"
OTHER = "application/vnd.example.sbom.v1+json"
EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
EMPTY = {"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY_DIGEST, "size": 2}  # data: b"{}"


@pytest.fixture(scope="module")
def proxy_registry() -> Iterator[ReferrersRegistry]:
    with running_referrers_registry() as reg:
        yield reg


@pytest.fixture
def rr(proxy_registry: ReferrersRegistry) -> Iterator[ReferrersRegistry]:
    proxy_registry.reset()
    yield proxy_registry
    proxy_registry.reset()


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(host: str, name: str, data: bytes) -> dict[str, Any]:
    started = requests.post(f"http://{host}/v2/{name}/blobs/uploads/", timeout=10)
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    assert location.startswith(f"http://{host}/v2/{name}/blobs/uploads/")  # back at the proxy
    done = requests.put(
        location,
        params={"digest": digest_of(data)},
        data=data,
        headers={"Content-Type": "application/octet-stream"},
        timeout=10,
    )
    assert done.status_code == 201, done.text
    return {"mediaType": "application/octet-stream", "digest": digest_of(data), "size": len(data)}


def push_manifest(host: str, name: str, ref: str | None, manifest: dict[str, Any]) -> tuple[requests.Response, str]:
    data = json.dumps(manifest).encode()
    digest = digest_of(data)
    response = requests.put(
        f"http://{host}/v2/{name}/manifests/{ref or digest}",
        data=data,
        headers={"Content-Type": manifest["mediaType"]},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    assert response.headers["Docker-Content-Digest"] == digest
    return response, digest


def push_image(host: str, name: str) -> dict[str, Any]:
    """A small image (config + one layer) tagged 1.0.0; its descriptor."""
    config = push_blob(host, name, b'{"architecture":"wasm","os":"wasip2"}')
    config["mediaType"] = "application/vnd.oci.image.config.v1+json"
    layer = push_blob(host, name, b"\0asm\x01\0\0\0 a component")
    layer["mediaType"] = "application/wasm"
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": [layer]}
    response, digest = push_manifest(host, name, "1.0.0", manifest)
    assert "OCI-Subject" not in response.headers
    return {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(json.dumps(manifest).encode())}


def push_artifact(
    host: str, name: str, subject: dict[str, Any], artifact_type: str = SIGSTORE, note: str = "bundle"
) -> tuple[requests.Response, dict[str, Any]]:
    """An artifact manifest (empty config, one layer) referring to `subject`; the response and
    the referrer descriptor a registry should list for it."""
    layer = push_blob(host, name, json.dumps({"note": note}).encode())
    layer["mediaType"] = artifact_type
    annotations = {"org.opencontainers.image.created": "2025-01-01T00:00:00Z", "note": note}
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": EMPTY,
        "layers": [layer],
        "subject": subject,
        "annotations": annotations,
    }
    response, digest = push_manifest(host, name, None, manifest)
    size = len(json.dumps(manifest).encode())
    expected = {
        "mediaType": OCI_MANIFEST,
        "digest": digest,
        "size": size,
        "artifactType": artifact_type,
        "annotations": annotations,
    }
    return response, expected


def referrers(host: str, name: str, digest: str, artifact_type: str | None = None) -> requests.Response:
    params = {"artifactType": artifact_type} if artifact_type else None
    return requests.get(f"http://{host}/v2/{name}/referrers/{digest}", params=params, timeout=30)


def listed(response: requests.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == OCI_INDEX
    index = response.json()
    assert index["schemaVersion"] == 2
    assert index["mediaType"] == OCI_INDEX
    manifests: list[dict[str, Any]] = index["manifests"]
    return manifests


def test_empty_descriptor_is_the_well_known_one() -> None:
    assert digest_of(b"{}") == EMPTY_DIGEST


def test_subject_push_is_recorded_and_listed(rr: ReferrersRegistry) -> None:
    name = "refs/basic"
    push_blob(rr.host, name, b"{}")  # the empty config blob
    subject = push_image(rr.host, name)
    response, expected = push_artifact(rr.host, name, subject)
    assert response.headers["OCI-Subject"] == subject["digest"]
    assert rr.referrers(name, subject["digest"]) == [expected]

    assert listed(referrers(rr.host, name, subject["digest"])) == [expected]
    assert "OCI-Filters-Applied" not in referrers(rr.host, name, subject["digest"]).headers
    filtered = referrers(rr.host, name, subject["digest"], SIGSTORE)
    assert listed(filtered) == [expected]
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    other = referrers(rr.host, name, subject["digest"], OTHER)
    assert listed(other) == []
    assert other.headers["OCI-Filters-Applied"] == "artifactType"
    # an unknown digest: an empty index, not a 404
    assert listed(referrers(rr.host, name, digest_of(b"nothing"))) == []
    # upstream really stored it, and the proxy relays it
    fetched = requests.get(
        f"http://{rr.host}/v2/{name}/manifests/{expected['digest']}", headers={"Accept": OCI_MANIFEST}, timeout=10
    )
    assert fetched.status_code == 200
    assert digest_of(fetched.content) == expected["digest"]
    assert json.loads(fetched.content)["subject"] == subject
    head = requests.head(f"http://{rr.host}/v2/{name}/manifests/1.0.0", headers={"Accept": OCI_MANIFEST}, timeout=10)
    assert head.status_code == 200
    assert head.headers["Docker-Content-Digest"] == subject["digest"]
    assert int(head.headers["Content-Length"]) == subject["size"]
    asked = [p for m, p in rr.requests if m == "GET" and "/referrers/" in p]
    assert len(asked) == 5
    assert asked[0] == f"/v2/{name}/referrers/{subject['digest']}"
    assert asked[2].startswith(f"/v2/{name}/referrers/{subject['digest']}?artifactType=")
    assert rr.requests_to("PUT", f"/v2/{name}/manifests/") == 2


def test_paging_over_three_pages(rr: ReferrersRegistry) -> None:
    name = "refs/paged"
    push_blob(rr.host, name, b"{}")
    subject = push_image(rr.host, name)
    expected = [push_artifact(rr.host, name, subject, note=f"n{i}")[1] for i in range(7)]
    rr.page_size = 3
    for artifact_type in (None, SIGSTORE):
        query = "?artifactType=" + urllib.parse.quote(artifact_type, safe="") if artifact_type else ""
        url: str | None = f"http://{rr.host}/v2/{name}/referrers/{subject['digest']}{query}"
        pages: list[list[dict[str, Any]]] = []
        while url is not None:
            response = requests.get(url, timeout=10)
            pages.append(listed(response))
            link = response.links.get("next")
            if link is None:
                url = None
            else:
                assert response.headers["Link"].startswith(f"</v2/{name}/referrers/{subject['digest']}?")
                assert "n=3" in link["url"] and "last=sha256" in link["url"]
                if artifact_type:
                    assert "artifactType=" in link["url"]
                url = f"http://{rr.host}{link['url']}"
        assert [len(page) for page in pages] == [3, 3, 1]
        assert [d for page in pages for d in page] == expected
    rr.page_size = None
    assert listed(referrers(rr.host, name, subject["digest"])) == expected


def test_ignore_filter_and_injected_descriptors(rr: ReferrersRegistry) -> None:
    name = "refs/ignore"
    push_blob(rr.host, name, b"{}")
    subject = push_image(rr.host, name)
    sig = push_artifact(rr.host, name, subject, SIGSTORE)[1]
    sbom = push_artifact(rr.host, name, subject, OTHER)[1]
    assert listed(referrers(rr.host, name, subject["digest"], SIGSTORE)) == [sig]
    rr.ignore_filter = True
    response = referrers(rr.host, name, subject["digest"], SIGSTORE)
    assert listed(response) == [sig, sbom]
    assert "OCI-Filters-Applied" not in response.headers
    rr.ignore_filter = False
    missing = {
        "mediaType": OCI_MANIFEST,
        "digest": digest_of(b"no such manifest"),
        "size": 99,
        "artifactType": SIGSTORE,
    }
    rr.inject = [missing]
    assert listed(referrers(rr.host, name, subject["digest"], SIGSTORE)) == [sig, missing]
    assert listed(referrers(rr.host, name, digest_of(b"other subject"))) == [missing]
    gone = requests.get(f"http://{rr.host}/v2/{name}/manifests/{missing['digest']}", timeout=10)
    assert gone.status_code == 404


def test_extra_referrers_pad_the_index(rr: ReferrersRegistry) -> None:
    name = "refs/padded"
    push_blob(rr.host, name, b"{}")
    subject = push_image(rr.host, name)
    sig = push_artifact(rr.host, name, subject)[1]
    rr.extra_referrers = 5000
    everything = listed(referrers(rr.host, name, subject["digest"]))
    assert len(everything) == 5001
    assert everything[-1] == sig
    assert {d["artifactType"] for d in everything[:-1]} == {JUNK_ARTIFACT_TYPE}
    assert len({d["digest"] for d in everything}) == 5001
    assert listed(referrers(rr.host, name, subject["digest"], SIGSTORE)) == [sig]
    rr.ignore_filter = True
    assert len(listed(referrers(rr.host, name, subject["digest"], SIGSTORE))) == 5001


def test_referrers_status(rr: ReferrersRegistry) -> None:
    name = "refs/status"
    push_blob(rr.host, name, b"{}")
    subject = push_image(rr.host, name)
    sig = push_artifact(rr.host, name, subject)[1]
    rr.referrers_status = 404
    assert referrers(rr.host, name, subject["digest"]).status_code == 404
    rr.referrers_status = 500
    failed = referrers(rr.host, name, subject["digest"])
    assert failed.status_code == 500
    assert failed.json()["errors"][0]["code"] == "UNKNOWN"
    rr.referrers_status = None
    assert listed(referrers(rr.host, name, subject["digest"])) == [sig]
    assert rr.requests_to("GET", "/referrers/") == 3


def test_chunked_upload_through_the_proxy(rr: ReferrersRegistry) -> None:
    name = "refs/chunked"
    data = bytes(range(256)) * 1024 + b"tail"
    first, second, third = data[:100_000], data[100_000:200_000], data[200_000:]
    started = requests.post(f"http://{rr.host}/v2/{name}/blobs/uploads/", timeout=10)
    assert started.status_code == 202
    location = started.headers["Location"]
    assert location.startswith(f"http://{rr.host}/")
    patched = requests.patch(
        location,
        data=first,
        headers={"Content-Type": "application/octet-stream", "Content-Range": f"0-{len(first) - 1}"},
        timeout=10,
    )
    assert patched.status_code == 202, patched.text
    assert patched.headers["Range"] == f"0-{len(first) - 1}"
    location = patched.headers["Location"]
    assert location.startswith(f"http://{rr.host}/")

    def pieces() -> Iterator[bytes]:  # sent with Transfer-Encoding: chunked
        for start in range(0, len(second), 7000):
            yield second[start : start + 7000]

    patched = requests.patch(location, data=pieces(), headers={"Content-Type": "application/octet-stream"}, timeout=10)
    assert patched.status_code == 202, patched.text
    assert patched.headers["Range"] == f"0-{len(first) + len(second) - 1}"
    location = patched.headers["Location"]
    status = requests.get(location, timeout=10)
    assert status.status_code == 204
    assert status.headers["Range"] == f"0-{len(first) + len(second) - 1}"
    done = requests.put(
        location,
        params={"digest": digest_of(data)},
        data=third,
        headers={"Content-Type": "application/octet-stream"},
        timeout=10,
    )
    assert done.status_code == 201, done.text
    assert done.headers["Docker-Content-Digest"] == digest_of(data)
    assert done.headers["Location"].startswith(f"http://{rr.host}/v2/{name}/blobs/")
    blob = f"http://{rr.host}/v2/{name}/blobs/{digest_of(data)}"
    head = requests.head(blob, timeout=10)
    assert head.status_code == 200
    assert int(head.headers["Content-Length"]) == len(data)
    assert requests.get(blob, timeout=10).content == data
    ranged = requests.get(blob, headers={"Range": "bytes=1000-1999"}, timeout=10)
    assert ranged.status_code == 206
    assert ranged.content == data[1000:2000]
    assert rr.upstream.blob_data_path(digest_of(data)).read_bytes() == data
    assert [m for m, p in rr.requests if "/blobs/uploads/" in p] == ["POST", "PATCH", "PATCH", "GET", "PUT"]


def test_authorization_is_relayed_and_checked() -> None:
    with running_referrers_registry("alice", "s3cret-pass") as reg:
        name = "refs/private"
        denied = referrers(reg.host, name, digest_of(b"x"))
        assert denied.status_code == 401
        assert denied.headers["WWW-Authenticate"].startswith("Basic")
        assert requests.post(f"http://{reg.host}/v2/{name}/blobs/uploads/", timeout=10).status_code == 401
        session = requests.Session()
        session.auth = ("alice", "s3cret-pass")
        data = b"private"
        started = session.post(f"http://{reg.host}/v2/{name}/blobs/uploads/", timeout=10)
        assert started.status_code == 202
        done = session.put(started.headers["Location"], params={"digest": digest_of(data)}, data=data, timeout=10)
        assert done.status_code == 201
        allowed = session.get(f"http://{reg.host}/v2/{name}/referrers/{digest_of(b'x')}", timeout=10)
        assert listed(allowed) == []
        wrong = requests.get(
            f"http://{reg.host}/v2/{name}/referrers/{digest_of(b'x')}", auth=("alice", "nope"), timeout=10
        )
        assert wrong.status_code == 401
