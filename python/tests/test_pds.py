"""The complete example, in Python, against the real PDS the test fixture
starts (ATDATA_PDS_RUN_DIR names its run directory; skipped without it)."""

import dataclasses
import json
import os
import pathlib
import uuid

import numpy as np
import pytest
from numpy.typing import NDArray

import atdata_cpp as atdata
from atdata_cpp import errors
from atdata_cpp.atmosphere import AtmosphereClient, AtmosphereIndex
from conftest import write_shard

RUN_DIR = os.environ.get("ATDATA_PDS_RUN_DIR")
pytestmark = pytest.mark.skipif(not RUN_DIR, reason="needs the PDS test fixture (ATDATA_PDS_RUN_DIR)")


@atdata.packable
class FeatureSample:
    features: NDArray
    label: int
    source: str


def make(i):
    return {"features": (np.arange(128, dtype="<f4") + np.float32(i * 0.001)), "label": i % 10,
            "source": "synthetic"}


@pytest.fixture(scope="module")
def env():
    return json.loads((pathlib.Path(RUN_DIR) / "env.json").read_text())


@pytest.fixture(scope="module")
def client(env):
    acct = env["accounts"]["frank"]
    c = AtmosphereClient(base_url=env["pds_url"], plc_url=env["plc_url"])
    c.login(acct["handle"], acct["password"])
    return c


def test_complete_example(client, tmp_path):
    for s in range(4):
        write_shard(tmp_path / f"features-{s:06d}.tar",
                    [(f"{s * 250 + i:06d}", make(s * 250 + i)) for i in range(250)])
    url = "file://localhost" + str(tmp_path / "features-{000000..000003}.tar")
    index = AtmosphereIndex(client)
    schema_uri = index.publish_schema(FeatureSample, version="1.0.0", description="Feature vectors with labels")
    assert schema_uri.startswith(f"at://{client.did}/")
    name = f"py-features-{uuid.uuid4().hex[:8]}"
    entry = index.insert_dataset(atdata.Dataset[FeatureSample](url), name=name, schema_ref=schema_uri,
                                 description="Synthetic features", tags=["features", "synthetic"], license="MIT")
    assert entry["name"] == name and entry["data_urls"] == [url] and entry["schema_ref"] == schema_uri
    assert entry["record"]["license"] == "MIT"
    assert entry["uri"] in [e["uri"] for e in index.list_datasets()]
    assert schema_uri in [s["uri"] for s in index.list_schemas()]
    Decoded = index.decode_schema(entry["schema_ref"])
    assert [f.name for f in dataclasses.fields(Decoded)] == ["features", "label", "source"]
    n = 0
    for batch in index.load_dataset(entry["uri"], Decoded).ordered(batch_size=32):
        assert batch.features.shape[1:] == (128,)
        for k in range(len(batch)):
            want = make(n + k)
            assert batch.label[k] == want["label"] and np.array_equal(batch.features[k], want["features"])
        n += len(batch)
    assert n == 1000
    # the record's own schema when no type is given
    first = next(iter(index.load_dataset(entry["uri"]).ordered(batch_size=None)))
    assert type(first).__name__ == "FeatureSample" and first.label == 0


def test_session_export_and_restore(client, env):
    again = AtmosphereClient(base_url=env["pds_url"], plc_url=env["plc_url"])
    again.login_with_session(client.export_session())
    assert again.is_authenticated and again.did == client.did and again.handle == client.handle


def test_blobs_round_trip(client, tmp_path):
    path = write_shard(tmp_path / "blob-000000.tar", [(f"{i:04d}", make(i)) for i in range(40)])
    index = AtmosphereIndex(client)
    schema_uri = index.publish_schema(FeatureSample)
    uri = index.publish_with_blobs([path], schema_ref=schema_uri, name=f"py-blobs-{uuid.uuid4().hex[:8]}")
    assert len(index.shard_urls(uri)) == 1 and "com.atproto.sync.getBlob" in index.shard_urls(uri)[0]
    labels = sum((b.label for b in index.load_dataset(uri, FeatureSample).ordered(batch_size=16)), [])
    assert labels == [i % 10 for i in range(40)]


def test_errors_name_the_xrpc_error(client, env):
    bad = AtmosphereClient(base_url=env["pds_url"], plc_url=env["plc_url"])
    with pytest.raises(atdata.Error) as e:
        bad.login(env["accounts"]["frank"]["handle"], "wrong-password")
    assert isinstance(e.value, (errors.XrpcError, errors.AuthError))
    if isinstance(e.value, errors.XrpcError):
        assert e.value.error == "AuthenticationRequired" and e.value.status == 401
    index = AtmosphereIndex(client)
    with pytest.raises(errors.XrpcError) as e:
        index.get_dataset(f"at://{client.did}/ac.foundation.dataset.record/3zzzzzzzzzzzz")
    assert e.value.error == "RecordNotFound" and e.value.nsid == "com.atproto.repo.getRecord"
    with pytest.raises(errors.AuthError):
        AtmosphereIndex(AtmosphereClient(base_url=env["pds_url"], plc_url=env["plc_url"])).publish_schema(FeatureSample)


def test_catalogue_search_over_what_atdata_watch_stored(client, env, tmp_path):
    import subprocess

    cli = os.environ.get("ATDATA_CLI")
    if not cli:
        pytest.skip("needs the atdata CLI (ATDATA_CLI)")
    index = AtmosphereIndex(client)
    schema_uri = index.publish_schema(FeatureSample, description="for the catalogue")
    name = f"py-catalogued-{uuid.uuid4().hex[:8]}"
    entry = index.insert_dataset(["https://example.com/c-{000000..000003}.tar"], name=name, schema_ref=schema_uri,
                                 tags=["catalogued"], description="Found by full text")
    db = tmp_path / "catalogue.db"
    # --repo fills the catalogue with the account's repository (verified) at start.
    subprocess.run([cli, "watch", "--host", env["pds_url"], "--db", str(db), "--repo", client.did, "--count", "1"],
                   check=True, timeout=60, capture_output=True,
                   env={**os.environ, "ATDATA_PLC_URL": env["plc_url"]})
    cat = atdata.Catalogue(str(db))
    assert cat.counts()["datasets"] >= 1 and len(cat) >= 2
    (hit,) = cat.search(text=name)
    assert hit["uri"] == entry["uri"] and hit["kind"] == "dataset" and hit["schema_ref"] == schema_uri
    assert hit["tags"] == ["catalogued"] and hit["did"] == client.did
    assert entry["uri"] in [e["uri"] for e in cat.search(schema_uri=schema_uri)]
    assert cat.get(entry["uri"])["name"] == name
    assert cat.get(entry["uri"].rsplit("/", 1)[0] + "/3zzzzzzzzzzzz") is None
    with pytest.raises(ValueError, match="kind must be"):
        cat.search(kind="nope")
    with pytest.raises(errors.CatalogueError):
        atdata.Catalogue(str(tmp_path / "missing.db"))  # read-only: never created
