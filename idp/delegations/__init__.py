"""Délégations: an expert gives rights of his firm to collaborators."""
