"""Runs last in tests/headless: every documented endpoint was exercised, and so
validated against the OpenAPI document, by the tests above (both client kinds)."""

from __future__ import annotations

import pytest

from django_toopher.headless.openapi import ENDPOINTS

from .conftest import EXERCISED


def test_every_endpoint_was_exercised_and_validated(request):
    if request.config.option.keyword or len(EXERCISED) < 5:
        pytest.skip("only meaningful when the whole of tests/headless runs")
    documented = {(method, path) for method, path, *_rest in ENDPOINTS}
    assert documented - EXERCISED == set()
