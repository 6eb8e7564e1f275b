"""The domain error tree. Protocol errors are Authlib's, never these.

    IdpError                      base; ``code`` is stable, ``message`` is for people
    ├── NotFound                  (404) the thing does not exist, or is not yours
    ├── Forbidden                 (403) the caller may not do this
    ├── InvalidInput              (400) a field is wrong; ``field`` says which
    ├── Conflict                  (409) the state does not allow it now
    └── Unavailable               (503) a dependency is down; try again later

Views never build error answers themselves: ``idp.errorhandlers`` turns
these into pages or problem details in one place.
"""
from __future__ import annotations


class IdpError(Exception):
    status = 500
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field


class NotFound(IdpError):
    status = 404
    code = "not_found"


class Forbidden(IdpError):
    status = 403
    code = "forbidden"


class InvalidInput(IdpError):
    status = 400
    code = "invalid_input"


class Conflict(IdpError):
    status = 409
    code = "conflict"


class Unavailable(IdpError):
    status = 503
    code = "unavailable"
