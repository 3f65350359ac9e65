-- A history database as the first release (schema version 1) wrote it: two
-- conversations, a flat message list each. Loaded by tests/unit/test_store.py.
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
INSERT INTO conversations VALUES ('c-trip', 'Trip to Kyoto', 1700000000.0, 1700000300.0);
INSERT INTO conversations VALUES ('c-sql', 'SQLite window functions', 1700100000.0, 1700100100.0);
INSERT INTO messages (conversation_id, role, content, created_at) VALUES
    ('c-trip', 'user', 'Plan three days in Kyoto in autumn.', 1700000000.0),
    ('c-sql', 'user', 'What does LAG() do?', 1700100000.0),
    ('c-trip', 'assistant', 'Day 1: Fushimi Inari at dawn, then Gion.', 1700000100.0),
    ('c-sql', 'assistant', 'LAG() reads a value from an earlier row of the window.', 1700100100.0),
    ('c-trip', 'user', 'Where to see the maple leaves?', 1700000200.0),
    ('c-trip', 'assistant', 'Tofuku-ji and Eikando: go early, it gets crowded.', 1700000300.0);
PRAGMA user_version = 1;
