"""Coffre's error types, one tree shared by the server and the client (``wire``).

The SDK raises the very classes the server raises: a problem+json ``type`` maps back to
its class (``client.sdk.error_from_problem``).

Every failure a caller can act on is one of these; the HTTP layer maps each class to a
status and a stable problem ``type`` once (``api/problems.py``) and nowhere else::

    CoffreError
    ├── InvalidInput            bad identifiers, metadata, scopes: nothing was recorded
    │   └── InvalidKey          key bytes or a key id of the wrong size or shape
    ├── NotFound
    │   ├── UnknownSpace
    │   ├── UnknownDocument     also what a refused read looks like from outside
    │   ├── UnknownGrant
    │   ├── UnknownRepresentative
    │   ├── UnknownReaderKey
    │   ├── UnknownExport       no export job of this caller with this id
    │   └── UnknownKey          no space key with this id in the key store
    ├── Conflict
    │   ├── SpaceAlreadyExists
    │   ├── AlreadyDeposited    the upload or source identifier is a document already:
    │   │                       ``document_id`` names it
    │   ├── KeyAlreadyExists    a space key with this id is already stored
    │   ├── DirectUploadUnavailable  no direct uploads here: upload through the API
    │   ├── ExportInProgress    this caller's previous export is still being built
    │   └── ExportNotReady      the export's archive is not there (yet, or any more)
    ├── RangeNotSatisfiable     a download's Range lies beyond its end (416)
    ├── Refused                 the policy said no; carries the rule that failed
    ├── Unauthenticated         missing, malformed, expired or unsigned credentials
    ├── Forbidden               authenticated, but this role may not call this
    │   ├── InsufficientScope   the token lacks the OAuth scope the route needs
    │   ├── CrossSiteRequest    a cookie session's change without its CSRF token or
    │   │                       from another origin
    │   └── DeviceNotApproved   a read named a device not approved (pending, legacy)
    │       └── DeviceRevoked   a read named a revoked device
    ├── IntegrityFailure        a ciphertext or receipt failed verification
    │   └── DecryptionError     opaque on purpose: never says which check failed
    ├── KeyDestroyed            the space's key was shredded: nothing can be opened
    └── Unavailable             a backend (event store, key store, blob store) failed
        ├── KeyStoreUnavailable the key store's database failed
        ├── IssuerUnavailable   a token issuer's discovery or key set could not be fetched
        └── KeySourceError      keys missing, malformed, unsafe on disk, or read-only
            ├── InsecureKeyFile a key file is readable by group or others
            └── MasterKeyError  master keys missing, malformed or unusable
                └── UnknownMasterKey a secret is wrapped under a master key not loaded

Messages never contain document bytes, keys or tokens.
"""

from __future__ import annotations


class CoffreError(Exception):
    """Base of every error Coffre raises on purpose."""

    #: stable, machine-readable slug used as the problem ``type`` suffix
    code: str = "error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(CoffreError):
    """A command or query was malformed; nothing was recorded."""

    code = "invalid-input"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class NotFound(CoffreError):
    """Something named by the caller does not exist (or may not be seen)."""

    code = "not-found"


class UnknownSpace(NotFound):
    """No space exists for this patient."""

    code = "unknown-space"


class UnknownDocument(NotFound):
    """No such document, or one the caller may not know exists."""

    code = "unknown-document"


class UnknownGrant(NotFound):
    """No such grant in this space."""

    code = "unknown-grant"


class UnknownRepresentative(NotFound):
    """The person named does not represent this patient."""

    code = "unknown-representative"


class UnknownReaderKey(NotFound):
    """The reader key named in a read is not registered to the caller."""

    code = "unknown-reader-key"


class UnknownExport(NotFound):
    """No export job with this id for this caller: someone else's job answers the same,
    so that a job id reveals nothing of another person's export."""

    code = "unknown-export"


class Conflict(CoffreError):
    """The command contradicts the current state."""

    code = "conflict"


class SpaceAlreadyExists(Conflict):
    """A space was already provisioned for this patient."""

    code = "space-already-exists"


class AlreadyDeposited(Conflict):
    """The deposit's upload, or its source identifier with other content, is already a
    document of this space; ``document_id`` names that document (the depositor's own
    deposit, so naming it reveals nothing)."""

    code = "already-deposited"

    def __init__(self, detail: str, *, document_id: object) -> None:
        super().__init__(detail)
        self.document_id = str(document_id)


class DirectUploadUnavailable(Conflict):
    """This vault's blob store takes no direct uploads (the files backend, or direct
    uploads turned off): upload through the API instead."""

    code = "direct-upload-unavailable"


class ExportInProgress(Conflict):
    """This caller already has an export being built: one at a time per caller, so that
    one person's repeated clicks cannot take the server's export capacity."""

    code = "export-in-progress"


class ExportNotReady(Conflict):
    """The export's archive cannot be downloaded: the job is still running, failed, or
    its archive expired or was deleted (``detail`` says which)."""

    code = "export-not-ready"


class RangeNotSatisfiable(CoffreError):
    """A download's ``Range`` starts at or beyond the end of what it names; ``size`` is
    that length (the answer's ``Content-Range: bytes */size``)."""

    code = "range-not-satisfiable"

    def __init__(self, detail: str, *, size: int) -> None:
        super().__init__(detail)
        self.size = size


class Refused(CoffreError):
    """The access policy refused the action; ``rule`` names the first failing rule."""

    code = "refused"

    def __init__(self, detail: str, *, rule: str) -> None:
        super().__init__(detail)
        self.rule = rule


class Unauthenticated(CoffreError):
    """The caller's credentials are missing, malformed, expired or not ours."""

    code = "unauthenticated"


class Forbidden(CoffreError):
    """The caller is known but its role may not use this operation."""

    code = "forbidden"


class InsufficientScope(Forbidden):
    """The token is valid but was not granted the OAuth scope this operation needs
    (RFC 6750 ``insufficient_scope``); ``scope`` is the scope to ask for."""

    code = "insufficient-scope"

    def __init__(self, detail: str, *, scope: str) -> None:
        super().__init__(detail)
        self.scope = scope


class CrossSiteRequest(Forbidden):
    """A change (POST, PUT, PATCH, DELETE) made with a web session's cookie without the
    session's CSRF token, or from a page of another origin: refused, nothing recorded."""

    code = "cross-site-request"


class DeviceNotApproved(Forbidden):
    """A read named a reader device its owner has not approved: no data key is sealed
    to it. ``rule`` is what the refused read records."""

    code = "device-not-approved"
    rule = "device_not_approved"


class DeviceRevoked(DeviceNotApproved):
    """A read named a revoked reader device: it never receives a data key again."""

    code = "device-revoked"
    rule = "device_revoked"


class IntegrityFailure(CoffreError):
    """Stored or transmitted bytes failed verification (hash, MAC, signature)."""

    code = "integrity-failure"


class KeyDestroyed(CoffreError):
    """The key needed was destroyed (crypto-shredding); the data is gone for good."""

    code = "key-destroyed"


class Unavailable(CoffreError):
    """A backend failed; the operation did not happen (and released nothing)."""

    code = "unavailable"


class StorageFull(Unavailable):
    """The server's storage (its data directory, database or blob store) is full: the
    operation did not happen, and succeeds again once an operator frees space."""

    code = "storage-full"


class DecryptionError(IntegrityFailure):
    """A ciphertext, sealed key or wrapped secret failed authentication.

    Deliberately opaque (like PyNaCl's ``CryptoError``): telling an attacker *which*
    check failed (header, tag, truncation, key) only helps them.
    """

    code = "decryption-failed"

    def __init__(self, detail: str = "ciphertext failed verification") -> None:
        super().__init__(detail)


class InvalidKey(InvalidInput):
    """Key material or a key id has the wrong size or shape."""

    code = "invalid-key"


class UnknownKey(NotFound):
    """No space key with this id exists in the key store."""

    code = "unknown-key"


class KeyAlreadyExists(Conflict):
    """A space key with this id is already stored."""

    code = "key-already-exists"


class KeyStoreUnavailable(Unavailable):
    """The key store's backend failed; nothing was changed or released."""

    code = "key-store-unavailable"


class IssuerUnavailable(Unavailable):
    """A configured token issuer's discovery document or key set could not be fetched:
    the token was neither accepted nor refused."""

    code = "issuer-unavailable"


class KeySourceError(Unavailable):
    """Keys could not be loaded from their source (a file, the environment), or a
    source that cannot be written (the environment) was asked to change."""

    code = "key-source-error"


class InsecureKeyFile(KeySourceError):
    """A key file grants permissions to group or others."""

    code = "insecure-key-file"


class MasterKeyError(KeySourceError):
    """The master keys could not be loaded or used (configuration problem)."""

    code = "master-key-error"


class UnknownMasterKey(MasterKeyError):
    """A secret is wrapped under a master key id that is not configured."""

    code = "unknown-master-key"
