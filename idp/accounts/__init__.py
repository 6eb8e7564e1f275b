"""Accounts: who the user is and how he proves it with a password."""
