"""Configuration of the provider, read from ``IDP_*`` environment variables.

This is the only module that reads the environment. Every setting has a
type and a default fit for a laptop; ``load`` refuses to start in
production with a development secret, because a provider that signs
tokens with a key anyone can read is worse than no provider.
"""
from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Any, Callable

PREFIX = "IDP_"


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.replace(",", " ").split() if item.strip()]


def env(name: str, default: Any = None, cast: Callable[[str], Any] = str) -> Any:
    """Read ``IDP_<name>`` and coerce it with ``cast``; ``default`` when unset."""
    raw = os.environ.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        return cast(raw)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name}: {exc}") from exc


def _instance_secret(instance_path: Path, filename: str, nbytes: int = 32) -> str:
    """A development secret kept in the instance folder, generated once.

    Development only: it lets ``flask run`` work on a fresh clone while keeping
    the secret out of the repository; production must configure real ones.
    """
    path = instance_path / filename
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    value = base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def _engine_options(database_url: str) -> dict[str, Any]:
    """SQLAlchemy engine options: pre-ping always; pool and timeouts on PostgreSQL.

    Pre-ping is what lets a node recover by itself once the database is
    back: a dead pooled connection is noticed and replaced at checkout.
    The connect timeout keeps an unreachable database from holding a
    worker; the pool timeout turns an exhausted pool into a 503.
    """
    options: dict[str, Any] = {"pool_pre_ping": True}
    if database_url.startswith("postgresql"):
        options.update(
            pool_size=env("DB_POOL_SIZE", 5, int),
            max_overflow=env("DB_MAX_OVERFLOW", 5, int),
            pool_timeout=env("DB_POOL_TIMEOUT", 10, int),
            pool_recycle=env("DB_POOL_RECYCLE", 1800, int),
            connect_args={"connect_timeout": env("DB_CONNECT_TIMEOUT", 5, int)},
        )
    return options


def load(instance_path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the Flask configuration mapping built from the environment."""
    instance = Path(instance_path)
    environment = env("ENV", "development")
    if environment not in {"development", "production", "test"}:
        raise ConfigError(f"{PREFIX}ENV must be development, production or test, not {environment!r}")
    production = environment == "production"

    issuer = env("ISSUER", "http://127.0.0.1:5000").rstrip("/")
    secret_key = env("SECRET_KEY")
    kek = env("KEY_ENCRYPTION_KEY")
    if production:
        missing = [name for name, value in (("SECRET_KEY", secret_key), ("KEY_ENCRYPTION_KEY", kek)) if not value]
        if missing:
            raise ConfigError("production refuses to start without " + ", ".join(PREFIX + m for m in missing))
        if not issuer.startswith("https://"):
            raise ConfigError(f"production requires an https {PREFIX}ISSUER")
    secret_key = secret_key or _instance_secret(instance, "secret_key")
    kek = kek or _instance_secret(instance, "key_encryption_key")

    database_url = env("DATABASE_URL", f"sqlite:///{instance / 'idp.sqlite3'}")
    cookie_secure = env("COOKIE_SECURE", issuer.startswith("https://"), _bool)
    ratelimit_url = env("RATELIMIT_STORAGE_URL", "memory://")

    return {
        "IDP_ENV": environment,
        "SECRET_KEY": secret_key,
        "IDP_KEY_ENCRYPTION_KEY": kek,
        "IDP_ISSUER": issuer,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url),
        # Lifetimes, in seconds.
        "IDP_CODE_TTL": env("CODE_TTL", 60, int),
        "IDP_ACCESS_TOKEN_TTL": env("ACCESS_TOKEN_TTL", 300, int),
        "IDP_ID_TOKEN_TTL": env("ID_TOKEN_TTL", 3600, int),
        "IDP_REFRESH_TOKEN_TTL": env("REFRESH_TOKEN_TTL", 30 * 24 * 3600, int),
        "IDP_SESSION_TTL": env("SESSION_TTL", 12 * 3600, int),
        "IDP_SIGNING_ALG": env("SIGNING_ALG", "ES256"),
        # How long a node trusts its in-memory copy of the signing keys: the
        # bound on how late a rotation done elsewhere is seen here.
        "IDP_KEYS_CACHE_SECONDS": env("KEYS_CACHE_SECONDS", 30, int),
        # How long a node trusts its in-memory copy of a client: the bound on
        # how late a client deletion done elsewhere is seen here.
        "IDP_CLIENTS_CACHE_SECONDS": env("CLIENTS_CACHE_SECONDS", 30, int),
        # Logs: JSON lines (or "text" on a laptop) on stderr, secrets redacted.
        "IDP_LOG_LEVEL": env("LOG_LEVEL", "INFO").upper(),
        "IDP_LOG_FORMAT": env("LOG_FORMAT", "json"),
        # ``idp cleanup`` keeps expired and ended rows this long (seconds).
        "IDP_CLEANUP_GRACE": env("CLEANUP_GRACE", 24 * 3600, int),
        "IDP_MAX_PARAM_LENGTH": env("MAX_PARAM_LENGTH", 2048, int),
        "MAX_CONTENT_LENGTH": env("MAX_CONTENT_LENGTH", 5 * 1024 * 1024, int),
        "IDP_DEFAULT_LOCALE": env("DEFAULT_LOCALE", "fr"),
        "RATELIMIT_STORAGE_URI": ratelimit_url,
        # Redis down must not stop logins: Flask-Limiter logs it and counts in
        # memory until Redis answers again. Short timeouts, so an unreachable
        # Redis costs a request half a second, not a worker.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": (
            {"socket_connect_timeout": 0.5, "socket_timeout": 0.5} if ratelimit_url.startswith(("redis", "rediss"))
            else {}
        ),
        "RATELIMIT_KEY_PREFIX": env("RATELIMIT_KEY_PREFIX", "idp"),
        # Login throttling (Flask-Limiter notation; ";" separates limits).
        "IDP_LOGIN_LIMIT_PER_ADDRESS": env("LOGIN_LIMIT_PER_ADDRESS", "30/minute"),
        "IDP_LOGIN_LIMIT_PER_ACCOUNT": env("LOGIN_LIMIT_PER_ACCOUNT", "10/minute;100/day"),
        # Growing delay after consecutive failures: 2^(n-3) s from the third, capped.
        "IDP_LOGIN_DELAY_CAP": env("LOGIN_DELAY_CAP", 60, int),
        # Failures older than this are forgotten (seconds of quiet since the last one).
        "IDP_LOGIN_FAILURE_WINDOW": env("LOGIN_FAILURE_WINDOW", 15 * 60, int),
        # Between the password and the authenticator code (seconds).
        "IDP_MFA_PENDING_TTL": env("MFA_PENDING_TTL", 5 * 60, int),
        # A browser that logged in to an account is trusted by it this long (seconds).
        "IDP_KNOWN_BROWSER_TTL": env("KNOWN_BROWSER_TTL", 180 * 24 * 3600, int),
        "IDP_SMTP_URL": env("SMTP_URL"),
        "IDP_MAIL_FROM": env("MAIL_FROM", "Comptexpert <no-reply@experts-comptables.org>"),
        # Without IDP_SMTP_URL, messages are written here as .eml files (development).
        "IDP_MAIL_DIR": env("MAIL_DIR", str(instance / "mail")),
        "IDP_SMTP_TIMEOUT": env("SMTP_TIMEOUT", 10, int),
        # Lifetimes of the links sent by email, in seconds.
        "IDP_CONFIRM_TTL": env("CONFIRM_TTL", 48 * 3600, int),
        "IDP_RESET_TTL": env("RESET_TTL", 3600, int),
        "SESSION_COOKIE_NAME": "idp_ui",
        "SESSION_COOKIE_SECURE": cookie_secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "IDP_SESSION_COOKIE": "idp_session",
        "IDP_COOKIE_SECURE": cookie_secure,
        "WTF_CSRF_TIME_LIMIT": None,
        # Off only for load tests (benchmarks/run.py): with the limits on, the
        # login page answers 429 long before the benchmark measures anything.
        "RATELIMIT_ENABLED": env("RATELIMIT_ENABLED", True, _bool),
        "IDP_TRUSTED_PROXIES": env("TRUSTED_PROXIES", [], _list),
        "IDP_CLIENT_CA_FILE": env("CLIENT_CA_FILE"),
        "IDP_CLIENT_CRL_FILES": env("CLIENT_CRL_FILES", [], _list),
        # SIGNEXPERT login (docs/assurance.md). The header a trusted proxy puts
        # the client certificate in (nginx: $ssl_client_escaped_cert).
        "IDP_CLIENT_CERT_HEADER": env("CLIENT_CERT_HEADER", "X-SSL-Client-Cert"),
        # Absolute URL of the certificate login page when it is served on an
        # origin of its own (another port that asks for client certificates);
        # empty: the provider's own /login/certificat.
        "IDP_CERTIFICATE_LOGIN_URL": env("CERTIFICATE_LOGIN_URL", ""),
        # ``idp serve-tls``: the listener's own certificate and key (PEM).
        "IDP_TLS_CERT_FILE": env("TLS_CERT_FILE"),
        "IDP_TLS_KEY_FILE": env("TLS_KEY_FILE"),
    }
