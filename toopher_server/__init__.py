"""toopher_server: the Toopher API v1 service as a product, run by a site's own operators."""
