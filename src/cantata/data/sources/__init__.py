"""Loaders for data users own, in the formats the field uses."""
