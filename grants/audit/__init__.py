"""Audit: the append-only record of state changes and security events."""
