"""Local models: the catalog, the hub, verified resumable downloads, the installed
models (GGUF files in the data folder's `models/`). No Qt here."""
