"""Helpers for the authenticator app's browser tests (tests/browser/test_authenticator_app.py)."""
