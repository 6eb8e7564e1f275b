"""Signing keys in the database, shared by every node (see ``keys/``)."""
