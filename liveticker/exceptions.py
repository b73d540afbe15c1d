"""The one exceptions module: every error the service raises on purpose.

    LivetickerError                 500 internal (never raised for user input)
    ├── Misconfigured               500 misconfigured (an operator's setting, e.g. the database URL)
    ├── DatabaseUnavailable         503 database_unavailable (the database does not answer)
    ├── BadRequest                  400 bad_request
    │   └── InvalidCursor           400 invalid_cursor
    ├── Unauthorized                401 unauthorized
    │   └── SignInRefused           401 unauthorized (its transaction commits: see the class)
    ├── Forbidden                   403 forbidden
    ├── NotFound                    404 not_found
    ├── Conflict                    409 conflict
    ├── Gone                        410 gone
    ├── PayloadTooLarge             413 payload_too_large
    ├── ValidationFailed            422 validation_error
    └── RateLimited                 429 rate_limited

Domain functions raise these; the web layer maps each to its status with one handler,
and the CLI prints the message. Messages are written for the person who sent the request.
The scoring engine, which imports nothing from the service, keeps its own two-class tree
in liveticker/scoring/errors.py.
"""

from __future__ import annotations


class LivetickerError(Exception):
    status_code = 500
    code = "internal"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadRequest(LivetickerError):
    status_code = 400
    code = "bad_request"


class InvalidCursor(BadRequest):
    code = "invalid_cursor"


class Unauthorized(LivetickerError):
    status_code = 401
    code = "unauthorized"


class SignInRefused(Unauthorized):
    """A refused sign-in to a staff account. The one error whose transaction is committed,
    not rolled back (storage.database.Database.transaction): it holds the audit entry of
    the attempt, which must outlast the refusal. Clients see a plain 401 `unauthorized`."""


class Forbidden(LivetickerError):
    status_code = 403
    code = "forbidden"


class NotFound(LivetickerError):
    status_code = 404
    code = "not_found"


class Conflict(LivetickerError):
    status_code = 409
    code = "conflict"


class Gone(LivetickerError):
    """It existed and was removed for good (a post purged for legal reasons)."""

    status_code = 410
    code = "gone"


class PayloadTooLarge(LivetickerError):
    status_code = 413
    code = "payload_too_large"


class ValidationFailed(LivetickerError):
    status_code = 422
    code = "validation_error"


class RateLimited(LivetickerError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Misconfigured(LivetickerError):
    """A setting the operator gave cannot work; the message says which and what to do."""

    code = "misconfigured"


class DatabaseUnavailable(LivetickerError):
    status_code = 503
    code = "database_unavailable"
