"""Importing other apps' exports (ChatGPT, Claude, Open WebUI) and our own JSON into
the history, streamed so memory stays bounded. Qt-free; `import_file` is the entry.
"""

from .model import ImportedConversation, ImportedMessage, ImportFormatError
from .run import FORMAT_NAMES, AttachmentSink, ImportSummary, detect, import_file
from .source import ConversationTooLarge, Limits

__all__ = [
    "FORMAT_NAMES",
    "AttachmentSink",
    "ConversationTooLarge",
    "ImportFormatError",
    "ImportSummary",
    "ImportedConversation",
    "ImportedMessage",
    "Limits",
    "detect",
    "import_file",
]
