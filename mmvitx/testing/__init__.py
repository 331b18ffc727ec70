"""Helpers for mmvitx's test suite and benchmark: the families' reference implementations and
equivalence checks. Not imported by mmvitx itself; the references are test dependencies."""
