"""Tests of cantata.defects (a package: its module names repeat those of tests/detect)."""
