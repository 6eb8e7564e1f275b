"""Imports every model so that metadata (and Alembic) sees the whole schema."""
from .accounts.models import EmailToken, RecoveryCode, User  # noqa: F401
from .certificates.models import UserCertificate  # noqa: F401
from .delegations.models import AuditEntry, AuditHead, Delegation, DelegationRight, Message  # noqa: F401
from .events.models import OutboxEvent  # noqa: F401
from .firms.models import Firm, UserFirm  # noqa: F401
from .oauth.models import (  # noqa: F401
    AuthorizationCode,
    Client,
    Consent,
    Interaction,
    IssuedAccessToken,
    RefreshToken,
    UsedAssertion,
)
from .register.models import RegisterEntry, register_entry_firms  # noqa: F401
from .sessions.models import LoginSession  # noqa: F401
from .signing.models import SigningKey  # noqa: F401
