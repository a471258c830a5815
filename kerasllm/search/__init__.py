"""Semantic search: embed documents once into an index directory, then search it by text.

``build_index`` / ``SemanticIndex`` (index_store.py) hold the documents and
their unit embeddings; ``exact_search`` (exact_search.py) ranks them by a matrix
product. The index exports as a TF Serving SavedModel (kerasllm.export).
"""
from kerasllm.search.exact_search import exact_search, search_texts
from kerasllm.search.index_store import SemanticIndex, build_index

__all__ = ["SemanticIndex", "build_index", "exact_search", "search_texts"]
