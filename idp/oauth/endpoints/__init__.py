"""One module per protocol endpoint that has logic of its own."""
