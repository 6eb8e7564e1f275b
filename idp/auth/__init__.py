"""Login and logout pages; each way of proving identity plugs in here."""
