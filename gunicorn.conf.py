"""gunicorn settings for one provider node: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every setting can be changed through ``IDP_*`` variables (read with
``config.env``, like the application's own settings):

    IDP_BIND            addresses to listen on, comma-separated (127.0.0.1:8000)
    IDP_WORKERS         worker processes (2 x CPUs + 1)
    IDP_THREADS         threads per worker (4); keep IDP_DB_POOL_SIZE >= this
    IDP_TIMEOUT         seconds before a stuck worker is killed and replaced (30)
    IDP_GRACEFUL_TIMEOUT seconds a worker has to finish its requests on reload or stop (30)
    IDP_MAX_REQUESTS    requests before a worker is recycled, 0 for never (10000)

Reload without dropping a request: ``kill -HUP <master pid>`` (``systemctl
reload idp``) starts new workers on the new code, then stops the old ones
gracefully. The application is not preloaded in the master: each worker
imports it and opens its own database connections after the fork, so no
connection is ever shared between processes.
"""
from __future__ import annotations

import ctypes
import glob
import multiprocessing
import os
import re
import tempfile

from gunicorn.glogging import Logger

from config import env

bind = env("BIND", ["127.0.0.1:8000"], lambda value: [item.strip() for item in value.split(",") if item.strip()])
workers = env("WORKERS", 2 * multiprocessing.cpu_count() + 1, int)
worker_class = "gthread"
threads = env("THREADS", 4, int)
timeout = env("TIMEOUT", 30, int)
graceful_timeout = env("GRACEFUL_TIMEOUT", 30, int)
keepalive = 5
max_requests = env("MAX_REQUESTS", 10000, int)
max_requests_jitter = max_requests // 10
preload_app = False
proc_name = "idp"
# Reload and stop go through signals (systemd); gunicorn's control socket
# would be one per user, shared by every instance on the machine.
control_socket_disable = True

# nginx sets X-Forwarded-Proto; gunicorn trusts it from these addresses only
# (FORWARDED_ALLOW_IPS, gunicorn's own variable, overrides).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The application writes one JSON access-log line per request itself (with
# the request id, query strings redacted); gunicorn's own would repeat it.
accesslog = None
errorlog = "-"
loglevel = env("LOG_LEVEL", "info").lower()
# gunicorn's messages (worker started, timeout, reload...) as JSON lines too,
# through the same formatter and redaction as the application's.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "idp.observability.logging.JsonFormatter"}},
    "handlers": {"stderr": {"class": "idp.observability.logging.StderrHandler", "formatter": "json"}},
    "root": {"level": loglevel.upper(), "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": [], "propagate": True},
        # With a logging configuration gunicorn writes its access log even
        # when ``accesslog`` is None: silenced, the application's is the one.
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        # Alembic announces its plugins when a worker imports Flask-Migrate.
        "alembic.runtime.plugins": {"level": "WARNING"},
    },
}


class _Logger(Logger):
    """gunicorn's logger without its access log.

    With ``logconfig_dict`` set, gunicorn builds every request's access-log
    atoms (1.5 % of a token request) for a logger silenced above: the
    application writes the access log itself.
    """

    def _compute_access_log_enabled(self):
        return False

    def access(self, resp, req, environ, request_time):
        return None


logger_class = _Logger

# Memory of argon2id (19 MiB per hash) is bounded in the application: one
# hash at a time per worker (idp/accounts/passwords.py). glibc gives each
# thread its own arena, which would keep one freed buffer per thread; one
# arena lets the threads of a worker reuse a single buffer. (Lowering the
# mmap threshold instead halved the hash rate: a fresh mapping per hash.)
if os.environ.get("MALLOC_ARENA_MAX") is None:
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, 1)  # M_ARENA_MAX, inherited by the forked workers
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass

# Prometheus: every worker writes its samples under this directory and
# /metrics adds them up. Set before any worker starts (they inherit it).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="idp-metrics-")
_METRICS_FILE = re.compile(r"_(\d+)\.db$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def on_starting(server):
    """Remove the samples of processes gone before this start (a previous run)."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for path in glob.glob(os.path.join(directory, "*.db")):
        match = _METRICS_FILE.search(path)
        if match and not _alive(int(match.group(1))):
            os.remove(path)


def child_exit(server, worker):
    """A worker is gone: its live gauges (database pool) must not count any more."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
