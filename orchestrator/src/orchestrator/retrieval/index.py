"""ChromaDB: one collection per tenant (the one client module for Chroma).

Embedded `PersistentClient` under `DATA_DIR/chroma` by default, `HttpClient` when `CHROMA_URL` is
set (several orchestrator replicas must share a Chroma server). Each collection's metadata names
the embedding model its vectors came from and the key of how their documents were written (the
format and the tenant's synonym list); a collection of another model or documents is stale: it is
dropped and rebuilt, so vectors of two models (or two kinds of document) are never mixed.
Chroma's client is synchronous: every call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

EMBEDDING_KEY = "nexus_embedding"
DOCUMENTS_KEY = "nexus_documents"  # what the documents were made with (`documents.documents_key`)
VERSION_KEY = "v"  # per vector: the product row's updated_at it was embedded from

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def make_client(chroma_url: str | None, data_dir: Path) -> Any:
    """One client per target per process (the embedded store must not be opened twice)."""
    key = chroma_url or str((data_dir / "chroma").resolve())
    with _clients_lock:
        if key not in _clients:
            # Imported here: chromadb takes seconds to import and a process that never searches
            # (or not yet) should not wait for it to start serving webhooks.
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            if chroma_url:
                u = urlparse(chroma_url)
                _clients[key] = chromadb.HttpClient(
                    host=u.hostname or "localhost",
                    port=u.port or (443 if u.scheme == "https" else 8000),
                    ssl=u.scheme == "https",
                    settings=settings,
                )
            else:
                path = data_dir / "chroma"
                path.mkdir(parents=True, exist_ok=True)
                _clients[key] = chromadb.PersistentClient(path=str(path), settings=settings)
        return _clients[key]


def collection_name(tenant_id: uuid.UUID) -> str:
    return f"products_{tenant_id.hex}"


@dataclass
class VectorHit:
    product_id: uuid.UUID
    distance: float


class ProductIndex:
    def __init__(self, client: Any) -> None:
        self._client = client

    def _existing(self, tenant_id: uuid.UUID) -> Any | None:
        try:
            return self._client.get_collection(collection_name(tenant_id), embedding_function=None)
        except Exception:  # noqa: BLE001 - chroma raises NotFoundError/ValueError by version
            return None

    def _model_of_sync(self, tenant_id: uuid.UUID) -> str | None:
        col = self._existing(tenant_id)
        return None if col is None else (col.metadata or {}).get(EMBEDDING_KEY)

    async def model_of(self, tenant_id: uuid.UUID) -> str | None:
        """The embedding model of the tenant's collection, or None when it has none."""
        return await asyncio.to_thread(self._model_of_sync, tenant_id)

    @staticmethod
    def _matches(col: Any, model: str, documents: str | None) -> bool:
        meta = col.metadata or {}
        return bool(
            meta.get(EMBEDDING_KEY) == model and (documents is None or meta.get(DOCUMENTS_KEY) == documents)
        )

    def _is_current_sync(self, tenant_id: uuid.UUID, model: str, documents: str | None) -> bool:
        col = self._existing(tenant_id)
        return col is not None and self._matches(col, model, documents)

    async def is_current(self, tenant_id: uuid.UUID, model: str, documents: str | None) -> bool:
        """Whether the tenant's collection holds vectors of `model` made from `documents`."""
        return await asyncio.to_thread(self._is_current_sync, tenant_id, model, documents)

    def _create_sync(self, tenant_id: uuid.UUID, model: str, documents: str | None) -> None:
        if self._existing(tenant_id) is not None:
            self._client.delete_collection(collection_name(tenant_id))
        meta = (
            {EMBEDDING_KEY: model} if documents is None else {EMBEDDING_KEY: model, DOCUMENTS_KEY: documents}
        )
        self._client.create_collection(
            collection_name(tenant_id),
            metadata=meta,
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None,
        )

    async def recreate(self, tenant_id: uuid.UUID, model: str, documents: str | None = None) -> None:
        await asyncio.to_thread(self._create_sync, tenant_id, model, documents)

    def _upsert_sync(
        self,
        tenant_id: uuid.UUID,
        model: str,
        ids: list[str],
        vectors: list[list[float]],
        docs: list[str],
        versions: list[str] | None,
        documents: str | None,
    ) -> None:
        col = self._existing(tenant_id)
        if col is None or not self._matches(col, model, documents):
            raise StaleIndex(tenant_id)
        metas = [{VERSION_KEY: v} for v in versions] if versions else None
        for i in range(0, len(ids), 1000):
            col.upsert(
                ids=ids[i : i + 1000],
                embeddings=vectors[i : i + 1000],
                documents=docs[i : i + 1000],
                metadatas=metas[i : i + 1000] if metas else None,
            )

    async def upsert(
        self,
        tenant_id: uuid.UUID,
        model: str,
        ids: list[str],
        vectors: list[list[float]],
        docs: list[str],
        versions: list[str] | None = None,
        documents: str | None = None,
    ) -> None:
        """`versions`: the product row's version (its updated_at) each vector was made from;
        `documents`: the collection must have been made for documents of this key."""
        if ids:
            await asyncio.to_thread(
                self._upsert_sync, tenant_id, model, ids, vectors, docs, versions, documents
            )

    def _versions_sync(self, tenant_id: uuid.UUID) -> dict[str, str | None]:
        col = self._existing(tenant_id)
        if col is None:
            return {}
        res = col.get(include=["metadatas"])
        return {
            pid: (meta or {}).get(VERSION_KEY)
            for pid, meta in zip(res["ids"], res["metadatas"] or [None] * len(res["ids"]), strict=True)
        }

    async def versions(self, tenant_id: uuid.UUID) -> dict[str, str | None]:
        """Every indexed product id with the row version its vector was made from."""
        return await asyncio.to_thread(self._versions_sync, tenant_id)

    def _delete_sync(self, tenant_id: uuid.UUID, ids: list[str]) -> None:
        col = self._existing(tenant_id)
        if col is not None and ids:
            col.delete(ids=ids)

    async def delete(self, tenant_id: uuid.UUID, ids: list[str]) -> None:
        await asyncio.to_thread(self._delete_sync, tenant_id, ids)

    def _count_sync(self, tenant_id: uuid.UUID) -> int:
        col = self._existing(tenant_id)
        return 0 if col is None else int(col.count())

    async def count(self, tenant_id: uuid.UUID) -> int:
        return await asyncio.to_thread(self._count_sync, tenant_id)

    def _query_sync(
        self, tenant_id: uuid.UUID, model: str, vector: list[float], k: int, documents: str | None
    ) -> list[VectorHit]:
        col = self._existing(tenant_id)
        if col is None or not self._matches(col, model, documents):
            raise StaleIndex(tenant_id)
        n = min(k, int(col.count()))
        if n == 0:
            return []
        res = col.query(query_embeddings=[vector], n_results=n, include=["distances"])
        return [
            VectorHit(uuid.UUID(pid), float(dist))
            for pid, dist in zip(res["ids"][0], res["distances"][0], strict=True)
        ]

    async def query(
        self, tenant_id: uuid.UUID, model: str, vector: list[float], k: int, documents: str | None = None
    ) -> list[VectorHit]:
        return await asyncio.to_thread(self._query_sync, tenant_id, model, vector, k, documents)


class StaleIndex(Exception):
    """The tenant's collection is missing or was built with another embedding model."""

    def __init__(self, tenant_id: uuid.UUID) -> None:
        super().__init__(f"index of tenant {tenant_id} is missing or stale")
        self.tenant_id = tenant_id
