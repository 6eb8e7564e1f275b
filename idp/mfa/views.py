"""Sécurité: authenticator app, recovery codes, password, active sessions."""
from flask import Blueprint

bp = Blueprint("mfa", __name__)
