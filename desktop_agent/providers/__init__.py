"""Implementations of the engine's `ChatModel` protocol."""
