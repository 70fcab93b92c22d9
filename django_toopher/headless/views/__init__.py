"""Views of the JSON API: thin, like the HTML ones. Each parses the JSON body with the
app's forms, calls a flow of :mod:`django_toopher.internal.flows` and answers JSON."""
