"""Views of django_toopher: thin, each parses the request, calls a flow of
:mod:`django_toopher.internal.flows` and renders what it returns. The pending page
lives in :mod:`.login`; the security page in :mod:`.enrollment`; the terminals page in
:mod:`.terminals`; the password re-entry page in :mod:`.reauth`."""
