"""pytest-ruvqe: quality engineering for pytest.

PYTEST_DONT_REWRITE: the plugin's own asserts need no rewriting, and the
mutation host imports this package before its pytest session starts; without
this marker pytest warns that it cannot rewrite an imported module, which a
project's ``filterwarnings = ["error"]`` turns into a failed run.
"""

from pytest_ruvqe.warning_types import (
    RuvqeGenerationWarning,
    RuvqeMutationWarning,
    RuvqeReportWarning,
    RuvqeSourceWarning,
    RuvqeStoreWarning,
    RuvqeWarning,
)

__version__ = "0.1.0"

__all__ = [
    "RuvqeGenerationWarning",
    "RuvqeMutationWarning",
    "RuvqeReportWarning",
    "RuvqeSourceWarning",
    "RuvqeStoreWarning",
    "RuvqeWarning",
    "__version__",
]
