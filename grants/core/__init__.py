"""Pieces every domain shares: column types, transitions, errors, object loading."""
