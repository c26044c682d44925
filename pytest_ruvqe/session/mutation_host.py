"""The mutation host process with the ``.ruvqe/`` store as its result cache.

Run as ``python -m pytest_ruvqe.session.mutation_host PLAN.json`` (the quality
step names it in the mutation plan): the host of :mod:`analyse.mutation`
knows nothing of the store, this entry point joins the two.
"""

from __future__ import annotations

from pytest_ruvqe.analyse.mutation.host import main
from pytest_ruvqe.memory.store import open_store

if __name__ == "__main__":
    raise SystemExit(main(open_cache=open_store))
