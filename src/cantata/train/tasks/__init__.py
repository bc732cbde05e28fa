"""Task adapters: each capability supplies batch -> loss, metrics for the one loop."""
