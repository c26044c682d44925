"""One enabled run, step by step: the plugin object (:mod:`.hooks`) hands the
work to the coverage, quality and generation steps, then to the outputs and
gates; problems are recorded as warnings (:mod:`.problems`)."""
