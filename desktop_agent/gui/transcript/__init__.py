"""The transcript: the conversation shown as one QTextDocument (see `widget`)."""

from .entries import RESULT_PREVIEW_CHARS, Entry
from .widget import Transcript

__all__ = ["RESULT_PREVIEW_CHARS", "Entry", "Transcript"]
