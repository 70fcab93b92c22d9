"""toopher_server: the Toopher service (API v1), run by a site's own operators."""
