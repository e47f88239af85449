"""Filter tests run offline: any download helper or outbound connection is recorded and fails the test."""
import os
import socket

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    import datatrove.io
    import datatrove.pipeline.filters.c4_filters
    import datatrove.pipeline.filters.url_filter
    import datatrove.utils.lid

    attempts: list[str] = []

    def refuse_download(*args, **kwargs):
        attempts.append(f"cached_asset_path_or_download{args}")
        raise AssertionError("datatrove tried to download an asset")

    # modules bind the helper at import, so patch every name it is bound to
    for module in (datatrove.io, datatrove.utils.lid, datatrove.pipeline.filters.c4_filters):
        monkeypatch.setattr(module, "cached_asset_path_or_download", refuse_download)
    monkeypatch.setattr(datatrove.pipeline.filters.url_filter.URLFilter, "download_data", refuse_download)

    real_connect = socket.socket.connect

    def guarded_connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):  # unix sockets (multiprocess manager) are fine
            attempts.append(f"connect{address}")
            raise AssertionError(f"network connection attempted: {address}")
        return real_connect(self, address)

    def refuse_dns(*args, **kwargs):
        attempts.append(f"getaddrinfo{args}")
        raise AssertionError("DNS lookup attempted")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_dns)
    yield attempts
    assert not attempts, f"network access attempted: {attempts}"


@pytest.fixture
def make_doc():
    from datatrove.data import Document

    counter = iter(range(10**6))

    def make(text: str, **metadata) -> Document:
        return Document(text=text, id=f"doc-{next(counter)}", metadata=dict(metadata))

    return make
