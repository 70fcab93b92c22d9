"""System checks (filled in by the django_toopher work)."""
