"""pytest-ruvqe: quality engineering for pytest."""

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
