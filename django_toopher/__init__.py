"""django_toopher: push-approval second-factor authentication for Django sites."""
