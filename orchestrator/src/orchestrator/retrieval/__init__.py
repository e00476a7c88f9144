"""Hybrid product retrieval: ChromaDB vectors + Postgres full-text, fused by reciprocal rank."""
