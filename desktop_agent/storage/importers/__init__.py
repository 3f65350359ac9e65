"""Importing other apps' exports (ChatGPT, Claude, Open WebUI) and our own JSON into
the history, streamed so memory stays bounded, with the images and files they hold
kept as attachments (prepared by the caller's `Preparer`). Qt-free; `import_file`
is the entry.
"""

from .files import Prepared, Preparer
from .model import ImportedConversation, ImportedMessage, ImportFormatError
from .run import FORMAT_NAMES, ImportSummary, detect, import_file
from .source import ConversationTooLarge, Limits

__all__ = [
    "FORMAT_NAMES",
    "ConversationTooLarge",
    "ImportFormatError",
    "ImportSummary",
    "ImportedConversation",
    "ImportedMessage",
    "Limits",
    "Prepared",
    "Preparer",
    "detect",
    "import_file",
]
