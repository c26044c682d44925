"""pytest-ruvqe: quality engineering for pytest."""

__version__ = "0.1.0"
