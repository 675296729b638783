"""Notifications: an outbox of e-mails, written with the change and sent after commit."""
