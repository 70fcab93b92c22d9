"""A2's request with its user, terminal, action and pairing: the service's prepared
query (``toopher_server.rowfetch``), its raw row kept by :mod:`.memo`.

The query is the one every deployment of the service runs (``toopher_server.lookups``);
only keeping the row until the connection next writes is the standalone server's own.
"""

from __future__ import annotations

from django.db import models

from toopher_server import db
from toopher_server.lookups import REQUEST_RELATED
from toopher_server.models import AuthenticationRequest
from toopher_server.rowfetch import RowFetch

from . import memo

_FETCH = RowFetch(AuthenticationRequest, REQUEST_RELATED)

#: The related rows fetched with the request: (field on AuthenticationRequest, model).
RELATED: tuple[tuple[str, type[models.Model]], ...] = tuple(
    (name, AuthenticationRequest._meta.get_field(name).related_model)  # type: ignore[misc]
    for name in REQUEST_RELATED
)


def authentication_request(request_id: str, using: str | None = None
                           ) -> AuthenticationRequest | None:
    """The request with this id (a valid UUID string) and its related rows, or None.

    ``using``: the database alias (default: the service's own, see ``toopher_server.db``)."""
    using = using or db.alias()
    params = _FETCH.prepare((request_id,), using)
    # The standalone server keeps the row until its connection next writes (see memo).
    row = memo.remembered("status-row", f"{using}:{params['v0']}",
                          lambda: _FETCH.row(params, using))
    if row is None:
        return None
    auth = _FETCH.build(row, using)
    assert isinstance(auth, AuthenticationRequest)
    return auth
