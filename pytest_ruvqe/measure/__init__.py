"""Coverage data and per-test outcomes of one pytest session."""
