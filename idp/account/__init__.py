"""Mon Espace: the pages where a user sees and manages his account."""
