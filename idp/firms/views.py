"""Mes sociétés d'exercice."""
from flask import Blueprint

bp = Blueprint("firms", __name__)
