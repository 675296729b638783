"""Attachments: files in local or S3-compatible storage, with their recorded metadata."""
