"""Stores: the only place bounced remembers anything (SQLite embedded, PostgreSQL shared)."""
