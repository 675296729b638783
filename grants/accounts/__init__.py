"""Accounts: organisations, users, roles, sessions and password resets."""
