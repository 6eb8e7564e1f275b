"""Health, readiness and metrics endpoints.

``/healthz`` says the process answers (a load balancer restarts it when
not); ``/readyz`` says it can do its job (database and signing keys), so
the balancer sends it traffic; ``/metrics`` is for Prometheus and should
be reachable only from the operators' network (see deploy/nginx.conf).
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from . import metrics

bp = Blueprint("observability", __name__)
log = logging.getLogger(__name__)

RETRY_AFTER = "5"


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    """The process is alive; touches nothing else."""
    return _no_store(jsonify(status="ok"))


def check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError as error:
        log.warning("readiness: database unavailable (%s)", type(error).__name__)
        try:
            db.session.rollback()
        except SQLAlchemyError:
            pass
        return "unavailable"


def check_signing_keys() -> str:
    from ..signing.services import load_ring

    try:
        ring = load_ring()
    except SQLAlchemyError:
        db.session.rollback()
        return "unavailable"
    return "ok" if current_app.config["IDP_SIGNING_ALG"] in ring.algorithms() else "no current signing key"


@bp.get("/readyz")
def readyz():
    """Ready for traffic: the database answers and the key ring has a current signing key."""
    checks = {"database": check_database()}
    checks["signing_keys"] = check_signing_keys() if checks["database"] == "ok" else "unknown"
    ready = all(value == "ok" for value in checks.values())
    response = _no_store(jsonify(status="ready" if ready else "unavailable", checks=checks))
    if ready:
        return response
    response.status_code = 503
    response.headers["Retry-After"] = RETRY_AFTER
    return response


@bp.get("/metrics")
def metrics_endpoint():
    return _no_store(metrics.render())
