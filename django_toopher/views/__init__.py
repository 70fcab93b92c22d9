"""Views of django_toopher. Login-side views live in :mod:`.login`; the enrollment
and terminal pages in :mod:`.enrollment` and :mod:`.terminals`."""
