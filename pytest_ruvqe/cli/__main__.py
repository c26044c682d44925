"""``python -m pytest_ruvqe.cli``: the ``ruvqe`` command."""

from pytest_ruvqe.cli import main

raise SystemExit(main())
