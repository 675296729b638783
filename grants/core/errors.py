"""Domain exceptions: services raise them, the web layer turns them into clear 4xx answers."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the action; the message is shown to the user."""

    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TransitionNotAllowed(DomainError):
    status_code = 409


class PermissionDenied(DomainError):
    status_code = 403


class StorageUnavailable(DomainError):
    status_code = 503


class StorageMisconfigured(StorageUnavailable):
    """The store answered but refused what the settings ask (credentials, bucket, encryption):
    trying again will not help until an administrator corrects them."""


class StoredObjectMissing(DomainError):
    """A row refers to an object the store does not have."""

    status_code = 404


class StaleEdit(DomainError):
    status_code = 409
