"""Mutation testing: operators, per-test selection, forked judging, cache."""
