"""Terminal, JSON and Markdown reports."""
