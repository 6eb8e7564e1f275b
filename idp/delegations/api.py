"""JSON API /api/v1 for delegations."""
from flask import Blueprint

bp = Blueprint("delegations_api", __name__)
