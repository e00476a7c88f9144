"""A customer's query does not queue behind a catalog rebuild on the local embedding model."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from orchestrator.retrieval.embeddings import _LocalModel


class _Recorded(_LocalModel):
    """A stand-in engine that records the order of its calls; its first document slice holds the
    model until a query is waiting for it."""

    name = "local:recorded"

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.first_slice = threading.Event()

    def _load(self) -> Any:
        return object()

    def _docs(self, model: Any, texts: list[str]) -> np.ndarray:
        self.calls.append(f"docs:{len(texts)}")
        if not self.first_slice.is_set():
            self.first_slice.set()
            deadline = time.monotonic() + 10
            while not getattr(self, "_queries_waiting", 0) and time.monotonic() < deadline:
                time.sleep(0.01)
        return np.array([[float(t)] for t in texts])

    def _query(self, model: Any, text: str) -> np.ndarray:
        self.calls.append("query")
        return np.array([1.0])


def test_a_query_waits_for_one_document_slice_not_the_whole_batch() -> None:
    model = _Recorded()
    texts = [str(i) for i in range(4 * model.DOC_SLICE)]
    vectors: list[list[float]] = []
    rebuild = threading.Thread(target=lambda: vectors.extend(model.docs_sync(texts)))
    rebuild.start()
    assert model.first_slice.wait(10)
    assert model.query_sync("remera negra") == [1.0]
    rebuild.join(10)
    slice_ = f"docs:{model.DOC_SLICE}"
    assert model.calls == [slice_, "query", slice_, slice_, slice_]
    # Every document still gets its own vector, in order.
    assert vectors == [[float(i)] for i in range(len(texts))]
