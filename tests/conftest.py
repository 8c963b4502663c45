from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import SAMPLE


@pytest.fixture(scope="session")
def sample_bytes() -> bytes:
    return SAMPLE.read_bytes()


@pytest.fixture(scope="session")
def sample_text(sample_bytes) -> str:
    return sample_bytes.decode("utf-8")


@pytest.fixture(scope="session")
def conformance_corpus(tmp_path_factory) -> Path:
    """The data folder (archive and index) of the conformance tables' fixed corpus
    (tests/conformance/tables.py), built once a session: a test that reads opens it, a
    test that writes (a site build keeps its cache in the data folder) copies it."""
    from tests.conformance.tables import corpus

    data = tmp_path_factory.mktemp("conformance")
    store, _ = corpus(data)
    store.close()
    return data


@pytest.fixture(scope="session")
def opensearch_url(tmp_path_factory) -> str:
    """A real one-node OpenSearch cluster (cluster/: built with Maven the first time),
    started for the session and stopped by pid at its end (the ``cluster`` tier)."""
    import cluster

    folder = tmp_path_factory.mktemp("opensearch-1")
    urls = cluster.start(1, folder, heap="512m", log_level="warn")
    yield urls[0]
    cluster.stop(folder)
