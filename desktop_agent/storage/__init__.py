"""The conversation store (SQLite), its recorder (a subscriber of the event stream),
and export / import."""

from .recorder import Recorder
from .store import Conversation, SearchHit, Store, StoredMessage, StoreError

__all__ = ["Conversation", "Recorder", "SearchHit", "Store", "StoreError", "StoredMessage"]
