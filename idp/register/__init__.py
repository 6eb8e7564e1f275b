"""The Tableau de l'Ordre (register): who is really an expert-comptable."""
