"""Test generation: targets, strategies, sandbox, acceptance, refine loop, writer."""
