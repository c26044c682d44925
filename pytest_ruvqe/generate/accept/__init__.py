"""Acceptance of candidate tests: a static view (:mod:`.static`), then proof by
running them in the sandbox (:mod:`.validate`)."""
