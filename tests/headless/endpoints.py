"""The JSON API's endpoints as its URL patterns declare them (not as a list kept by
hand): ``(method, route)`` pairs, the route as the OpenAPI document spells it."""

from __future__ import annotations

from django.urls import URLPattern

from django_toopher.headless import urls as headless_urls


def route_of(pattern: URLPattern) -> str:
    """``account/terminals/{pk}/rename`` for ``account/terminals/<int:pk>/rename``."""
    return str(pattern.pattern).replace("<int:pk>", "{pk}")


def served() -> set[tuple[str, str]]:
    """Every ``(method, route)`` the URL patterns serve (methods lower case)."""
    found: set[tuple[str, str]] = set()
    for pattern in headless_urls.endpoints:
        assert isinstance(pattern, URLPattern)
        methods = pattern.callback.api_methods  # type: ignore[attr-defined]
        found.update((method.lower(), route_of(pattern)) for method in methods)
    return found
