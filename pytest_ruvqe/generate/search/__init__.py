"""Characterization search: tests from observed behaviour, with no model.

Input mining (:mod:`.inputs`, :mod:`.facts`), call planning (:mod:`.plan`),
the probe's data (:mod:`.probe`) and its sandboxed executor (:mod:`.executor`),
and the search with its generator (:mod:`.characterize`).
"""
