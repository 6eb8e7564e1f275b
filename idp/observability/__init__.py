"""Health, metrics and structured logs."""
