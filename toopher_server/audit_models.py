"""The audit trail's two tables: the append-only records and the chain's head.

They are imported by ``models`` (so Django finds them) and written only by
:func:`toopher_server.audit.record`. Why each column is what it is:

* No foreign keys. A record names its requester, user and device by id (text), so that
  deleting a requester, a user or a phone never deletes (``CASCADE``) or changes
  (``SET_NULL``) the records about them: the trail outlives what it describes.
* ``id`` is the order of appending (records are appended one at a time under the
  chain's lock, see :mod:`toopher_server.audit`); ``verifyaudit`` reads in that order,
  so a record moved to another place shows as *reordered*. ``seq`` is the number in
  the chain: it is indexed, not unique, so that a second record with a number already
  used shows as *inserted* instead of being refused by the database where nobody looks.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models


class AppendOnlyError(RuntimeError):
    """An audit record was about to be changed or deleted through the ORM."""


def _refuse(what: str) -> NoReturn:
    raise AppendOnlyError(f"audit records are append-only: {what} is refused")


class AppendOnlyQuerySet(models.QuerySet):
    """A queryset of audit records: reads, and nothing that changes a stored row."""

    def update(self, **kwargs: Any) -> NoReturn:
        """Refused: a record, once written, stays as it was."""
        _refuse("update()")

    def delete(self) -> NoReturn:
        """Refused: records are never deleted by the application."""
        _refuse("delete()")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> NoReturn:
        """Refused, like :meth:`update`."""
        _refuse("bulk_update()")

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refused, like :meth:`update`."""
        _refuse("update_or_create()")


class AuditRecord(models.Model):
    """One audited event: who (requester, user, device), what (event), how it ended.

    Written by :func:`toopher_server.audit.record` in the transaction of the change it
    records, with ``hash`` = HMAC-SHA256 of the previous record's hash and this one
    (:mod:`toopher_server.auditchain`). Saving an existing record, deleting one and a
    queryset's ``update()``/``delete()`` raise :class:`AppendOnlyError`.
    """

    id = models.BigAutoField(primary_key=True)
    seq = models.BigIntegerField(db_index=True)
    time = models.DateTimeField()
    event = models.CharField(max_length=40)
    outcome = models.CharField(max_length=40)
    # NULL, not "": the chain hashes "no requester" (null) apart from an empty id.
    requester = models.CharField(max_length=64, null=True, blank=True, db_index=True)  # noqa: DJ001
    user = models.CharField(max_length=64, null=True, blank=True, db_index=True)  # noqa: DJ001
    device = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    details = models.JSONField(default=dict, blank=True)
    hash = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = "audit record"

    def __str__(self) -> str:
        return f"#{self.seq} {self.event} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert a new record; saving one that is already stored is refused."""
        if not self._state.adding:
            _refuse("saving a stored record")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refused: records are never deleted by the application."""
        _refuse("delete()")


class AuditHead(models.Model):
    """The chain's head: the newest record's number and hash, in one row (``id=1``).

    Appending locks this row first (see :mod:`toopher_server.audit`), which is what
    puts every instance's appends in one line. It also remembers the head when the newest
    records are deleted: the next record then chains from the deleted one, and the gap
    shows as *missing*.
    """

    id = models.PositiveSmallIntegerField(primary_key=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "audit chain head"

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"
