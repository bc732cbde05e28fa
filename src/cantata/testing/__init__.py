"""Synthetic, seeded audio for tests, benchmarks and examples (no files from outside)."""

from cantata.testing.signals import chirp, noise, sine
from cantata.testing.writers import write_compressed, write_search_library

__all__ = ["chirp", "noise", "sine", "write_compressed", "write_search_library"]
