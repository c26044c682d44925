"""Inference: local and cloud providers, router, privacy, costs (no pytest here)."""
