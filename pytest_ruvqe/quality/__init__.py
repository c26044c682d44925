"""Quality scores and refinement suggestions."""
