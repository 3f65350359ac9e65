"""The history database's schema and its migrations.

`PRAGMA user_version` is the schema version. Every migration runs in one
transaction, after the file was copied aside (`history.db.v1.bak`), and carries all
old data forward: nothing is ever dropped.

Version 1 (the first release): conversations and a flat list of messages.
Version 2: messages form a tree (edits and regenerations are versions, siblings
under one parent; a conversation shows the path to its `leaf_id`), with reasoning,
tool calls and results, status, token usage; per-conversation model, provider and
system prompt; soft delete (undo); FTS5 over titles and message text; sessions (to
tell an answer interrupted by a killed process from one still streaming).
Version 3: where an imported conversation came from (`conversation_sources`: the
source, e.g. "chatgpt", and its id there, unique), so importing a file again adds
nothing twice.
Version 4: attachments. `blobs` holds each attached file once, by the sha256 of its
bytes (as sent to the model: the scaled image, the document's text part);
`message_attachments` links messages to them in order, with the file's name.
Version 5 (context): `model_requests`, one row per request to a model: what was sent
(tokens of the window, messages sent, how many of the oldest were left out, the
summary that replaced them) and what it used (tokens in and out, counted or reported,
time to first token, tokens per second, cost); `conversations.context_settings`, a
conversation's own reserve and strategy (JSON; NULL: its provider's).
Version 6: projects. A project has a unique name, instructions, a default provider,
model and tool set; a conversation belongs to at most one (`conversations.project_id`).
Its knowledge: the files and folders added (`knowledge_sources`), every file found
(`knowledge_files`: mtime, size, sha256, indexed or skipped with the reason) and the
files' passages (`passages`, with their place: lines or PDF page) under FTS5, and
their embeddings where the provider makes them (`passage_vectors`: float32, unit length).
"""

from __future__ import annotations

SCHEMA_VERSION = 6  # wave2: projects migration (5 -> 6)

V1 = """
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT,
    created_at REAL NOT NULL
);
"""

_V2_TABLES = """
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    title_locked INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    leaf_id TEXT,
    provider_id TEXT,
    model TEXT,
    system_prompt TEXT,
    deleted_at REAL
);
CREATE INDEX conversations_recent ON conversations (updated_at DESC);
CREATE TABLE messages (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    parent_id TEXT,
    role TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    reasoning TEXT NOT NULL DEFAULT '',
    tool_calls TEXT,
    tool_call_id TEXT,
    tool_name TEXT,
    status TEXT NOT NULL DEFAULT 'complete',
    error TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    run_id TEXT,
    session_id TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX messages_children ON messages (conversation_id, parent_id);
CREATE INDEX messages_partial ON messages (status) WHERE status = 'partial';
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    started_at REAL NOT NULL
);
"""


def _fts(index: str, table: str, column: str, rowid: str) -> str:
    """An FTS5 index over `table.column`, kept in step by triggers (external content)."""
    return f"""
CREATE VIRTUAL TABLE {index} USING fts5(
    {column}, content='{table}', content_rowid='{rowid}',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER {index}_insert AFTER INSERT ON {table} BEGIN
    INSERT INTO {index} (rowid, {column}) VALUES (new.{rowid}, new.{column});
END;
CREATE TRIGGER {index}_delete AFTER DELETE ON {table} BEGIN
    INSERT INTO {index} ({index}, rowid, {column}) VALUES ('delete', old.{rowid}, old.{column});
END;
CREATE TRIGGER {index}_update AFTER UPDATE OF {column} ON {table} BEGIN
    INSERT INTO {index} ({index}, rowid, {column}) VALUES ('delete', old.{rowid}, old.{column});
    INSERT INTO {index} (rowid, {column}) VALUES (new.{rowid}, new.{column});
END;
"""


_V2_SEARCH = _fts("messages_fts", "messages", "content", "n") + _fts(
    "titles_fts", "conversations", "title", "rowid"
)

_V3_SOURCES = """
CREATE TABLE conversation_sources (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    imported_at REAL NOT NULL,
    UNIQUE (source, source_id)
);
"""

_V4_ATTACHMENTS = """
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE message_attachments (
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (message_id, position)
);
CREATE INDEX message_attachments_blob ON message_attachments (sha256);
"""

_V5_REQUESTS = """
CREATE TABLE model_requests (
    n INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    run_id TEXT NOT NULL,
    answer_id TEXT,
    tokens INTEGER,
    context_window INTEGER,
    reserve INTEGER,
    strategy TEXT,
    sent INTEGER,
    dropped INTEGER NOT NULL DEFAULT 0,
    dropped_tokens INTEGER NOT NULL DEFAULT 0,
    summary TEXT,
    retry INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    estimated INTEGER NOT NULL DEFAULT 0,
    first_token_ms REAL,
    tokens_per_second REAL,
    cost REAL,
    created_at REAL NOT NULL
);
CREATE INDEX model_requests_conversation ON model_requests (conversation_id, n);
ALTER TABLE conversations ADD COLUMN context_settings TEXT;
"""

# wave2: projects migration
_V6_PROJECTS = """
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    instructions TEXT NOT NULL DEFAULT '',
    provider_id TEXT,
    model TEXT,
    tools TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
ALTER TABLE conversations ADD COLUMN project_id TEXT REFERENCES projects(id) ON DELETE SET NULL;
CREATE INDEX conversations_project ON conversations (project_id);
CREATE TABLE knowledge_sources (
    id INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    added_at REAL NOT NULL,
    UNIQUE (project_id, path)
);
CREATE TABLE knowledge_files (
    id INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    source_id INTEGER NOT NULL REFERENCES knowledge_sources(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    mtime REAL NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    passages INTEGER NOT NULL DEFAULT 0,
    indexed_at REAL NOT NULL,
    UNIQUE (project_id, path)
);
CREATE INDEX knowledge_files_source ON knowledge_files (source_id);
CREATE TABLE passages (
    n INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES knowledge_files(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    line_start INTEGER,
    line_end INTEGER,
    page INTEGER,
    heading TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL
);
CREATE INDEX passages_file ON passages (file_id);
CREATE TABLE passage_vectors (
    n INTEGER PRIMARY KEY REFERENCES passages(n) ON DELETE CASCADE,
    model TEXT NOT NULL,
    vector BLOB NOT NULL
);
""" + _fts("passages_fts", "passages", "text", "n")

#: A new database: the current schema at once.
CREATE = _V2_TABLES + _V2_SEARCH + _V3_SOURCES + _V4_ATTACHMENTS + _V5_REQUESTS + _V6_PROJECTS

#: Version 1 -> 2: rebuild both tables; each conversation's messages become a chain
#: (parent = the previous message), its last message the leaf.
MIGRATE_1_TO_2 = (
    """
ALTER TABLE conversations RENAME TO conversations_v1;
ALTER TABLE messages RENAME TO messages_v1;
"""
    + _V2_TABLES
    + """
INSERT INTO conversations (id, title, created_at, updated_at)
    SELECT id, title, created_at, updated_at FROM conversations_v1;
INSERT INTO messages (id, conversation_id, parent_id, role, content, created_at, updated_at)
    SELECT 'v1-' || id, conversation_id,
           CASE WHEN prev IS NULL THEN NULL ELSE 'v1-' || prev END,
           role, COALESCE(content, ''), created_at, created_at
    FROM (SELECT *, LAG(id) OVER (PARTITION BY conversation_id ORDER BY id) AS prev
          FROM messages_v1)
    ORDER BY id;
UPDATE conversations SET leaf_id = (
    SELECT 'v1-' || MAX(id) FROM messages_v1 WHERE conversation_id = conversations.id
);
DROP TABLE messages_v1;
DROP TABLE conversations_v1;
"""
    + _V2_SEARCH
    + """
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
INSERT INTO titles_fts (titles_fts) VALUES ('rebuild');
"""
)

#: from-version -> the SQL that brings it to from-version + 1
#: 2 -> 3: the import-source table; 3 -> 4: the attachment tables; 4 -> 5: the
#: requests' record and per-conversation context settings (nothing existing changes).
#: 5 -> 6: projects and their knowledge (conversations gain `project_id`).
MIGRATIONS = {
    1: MIGRATE_1_TO_2,
    2: _V3_SOURCES,
    3: _V4_ATTACHMENTS,
    4: _V5_REQUESTS,
    5: _V6_PROJECTS,
}
