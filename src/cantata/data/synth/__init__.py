"""Synthetic training material: speech, singing, accompaniment, and their mixes."""
