"""Sign-up, email confirmation, password reset and Mes informations pages."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)
