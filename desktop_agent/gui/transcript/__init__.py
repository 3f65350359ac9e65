"""The transcript: the conversation shown as one QTextDocument (see `widget`)."""

from .entries import RESULT_PREVIEW_CHARS
from .widget import Entry, Transcript

__all__ = ["RESULT_PREVIEW_CHARS", "Entry", "Transcript"]
