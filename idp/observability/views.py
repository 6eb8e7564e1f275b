"""Health, readiness and metrics endpoints."""
from flask import Blueprint

bp = Blueprint("observability", __name__)
