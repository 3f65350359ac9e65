"""The application layer: one session (settings, providers, tools, history) under every surface."""
