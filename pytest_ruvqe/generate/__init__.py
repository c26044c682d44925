"""Test generation: targets, generators, sandbox, acceptance, refine loop, writer."""
