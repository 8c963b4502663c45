from __future__ import annotations

import pytest

from tests.helpers import SAMPLE


@pytest.fixture(scope="session")
def sample_bytes() -> bytes:
    return SAMPLE.read_bytes()


@pytest.fixture(scope="session")
def sample_text(sample_bytes) -> str:
    return sample_bytes.decode("utf-8")


@pytest.fixture(scope="session")
def opensearch_url(tmp_path_factory) -> str:
    """A real one-node OpenSearch cluster (cluster/: built with Maven the first time),
    started for the session and stopped by pid at its end (the ``cluster`` tier)."""
    import cluster

    folder = tmp_path_factory.mktemp("opensearch-1")
    urls = cluster.start(1, folder, heap="512m", log_level="warn")
    yield urls[0]
    cluster.stop(folder)
