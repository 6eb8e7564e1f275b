"""Sociétés d'exercice (firms), identified by their SIRET."""
