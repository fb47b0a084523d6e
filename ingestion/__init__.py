"""Video corpus ingestion: videos -> frames -> embeddings -> vector store, tagged with values."""
