"""Singing-voice (and speech) detection: transfer, post-processing, inference."""
