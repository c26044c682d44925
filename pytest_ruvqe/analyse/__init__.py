"""Source index, coverage gaps, test smells and mutation."""
