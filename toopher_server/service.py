"""The service's rules (spec §3.6), as seen by a requester through API v1.

Every function takes the authenticated ``Requester`` and only ever reads or writes
rows that belong to it: an id of another requester is simply not found.
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction

from . import (
    audit,
    db,
    lifecycle,
    lookups,
    messaging,
    numbers,
    ratelimit,
    remembered,
    reset_links,
    totp,
)
from .errors import (
    ApiError,
    bad_request,
    not_found,
    pairing_deactivated,
    pairing_not_authorized,
    terminal_unknown,
    user_disabled,
    user_unknown,
)
from .messaging import OutgoingMessage
from .models import (
    Action,
    AuthenticationRequest,
    Pairing,
    PairingPhrase,
    Phone,
    Requester,
    Terminal,
    User,
)
from .params import Params, parse_uuid
from .phrases import MAX_PHRASE_LENGTH, normalize_phrase
from .push import sending as push_sending
from .rowfetch import RowInsert

DEFAULT_ACTION = "Log in"
NAME_LENGTH = 200
PHONE_NUMBER = re.compile(r"^\+?[0-9][0-9 ()./-]{3,30}$")


# --- lookups --------------------------------------------------------------------------


def _uuid_or_404(value: str, what: str) -> str:
    try:
        return parse_uuid(value, what)
    except ApiError as exc:
        raise not_found(f"No {what} with this id.") from exc


def _owned(obj, owner_id, requester: Requester, what: str):
    """The object if it is the requester's; 404 if there is none, 403 if it is another's."""
    if obj is None:
        raise not_found(f"No {what} with this id.")
    if owner_id != requester.id:
        raise ApiError(403, 403, f"This {what} belongs to another requester.")
    return obj


def get_pairing(requester: Requester, pairing_id: str) -> Pairing:
    pid = _uuid_or_404(pairing_id, "pairing")
    pairing = lookups.pairing(pid)
    return _owned(pairing, pairing and pairing.requester_id, requester, "pairing")


def get_user(requester: Requester, user_id: str) -> User:
    uid = _uuid_or_404(user_id, "user")
    user = User.objects.select_related("requester").filter(id=uid).first()
    return _owned(user, user and user.requester_id, requester, "user")


def get_terminal(requester: Requester, terminal_id: str) -> Terminal:
    tid = _uuid_or_404(terminal_id, "terminal")
    terminal = Terminal.objects.select_related("user", "user__requester").filter(id=tid).first()
    return _owned(terminal, terminal and terminal.user.requester_id, requester, "terminal")


def get_authentication_request(requester: Requester, request_id: str) -> AuthenticationRequest:
    rid = _uuid_or_404(request_id, "authentication request")
    auth = lookups.authentication_request(rid)
    owned = _owned(auth, auth and auth.requester_id, requester, "authentication request")
    _share_relations(owned, requester)
    return lifecycle.expire_if_stale(owned)


def _share_relations(auth: AuthenticationRequest, requester: Requester) -> None:
    """Point the request's nested user and requester references at the rows in hand.

    The request, its pairing and its terminal all belong to one user of ``requester``:
    serializing them then needs no further query.
    """
    cache = lookups.attach_related
    cache(auth, "requester", requester)
    cache(auth.user, "requester", requester)
    if auth.pairing.user_id == auth.user_id:
        cache(auth.pairing, "user", auth.user)
    if auth.pairing.requester_id == requester.id:
        cache(auth.pairing, "requester", requester)
    if auth.terminal.user_id == auth.user_id:
        cache(auth.terminal, "user", auth.user)


def find_user(requester: Requester, name: str) -> User | None:
    return User.objects.select_related("requester").filter(requester=requester, name=name).first()


def get_or_create_user(requester: Requester, name: str) -> User:
    user = find_user(requester, name)
    if user is not None:
        return user
    try:
        with db.atomic():
            return User.objects.create(requester=requester, name=name)
    except IntegrityError:  # created concurrently
        return User.objects.get(requester=requester, name=name)


def get_or_create_action(requester: Requester, name: str) -> Action:
    action = lookups.action(requester.id, name)
    if action is None:
        action, _ = Action.objects.get_or_create(requester=requester, name=name)
    return action


# --- pairing (P1-P8) ---------------------------------------------------------------------


def _pairing_user(requester: Requester, params: Params) -> User:
    """The user named by ``user_name`` and/or ``user_id`` (renamed when both are given)."""
    name = params.text("user_name", max_length=NAME_LENGTH)
    user_id = params.text("user_id", max_length=64)
    if user_id is not None:
        user = get_user(requester, user_id)
        if name is not None and name != user.name:
            if find_user(requester, name) is not None:
                raise ApiError(409, 409, "Another user already has this name.")
            user.name = name
            user.save(update_fields=["name", "modified"])
        return user
    if name is None:
        raise bad_request("Missing required parameter: user_name.")
    return get_or_create_user(requester, name)


def _new_pairing(requester: Requester, user: User, kind: str, **fields) -> Pairing:
    pairing = Pairing.objects.create(
        requester=requester, user=user, kind=kind, otp_secret=totp.new_secret(), **fields
    )
    audit.pairing_event(audit.PAIRING_CREATED, pairing)
    return pairing


def pair_with_phrase(requester: Requester, params: Params) -> Pairing:
    """P1: pair with a phrase the phone generated (single use)."""
    raw = params.text("pairing_phrase", "pairing_token", required=True, max_length=100)
    phrase = normalize_phrase(raw)
    if not phrase or len(phrase) > MAX_PHRASE_LENGTH:
        raise bad_request("Invalid pairing phrase.")
    with db.atomic():
        user = _pairing_user(requester, params)
        return _pair_user(requester, user, phrase)


def pair_user_with_phrase(requester: Requester, user_name: str, raw_phrase: str) -> Pairing:
    """Pair a user (created if need be) with the phone that shows ``raw_phrase``."""
    phrase = normalize_phrase(raw_phrase)
    if not phrase or len(phrase) > MAX_PHRASE_LENGTH:
        raise bad_request("Invalid pairing phrase.")
    with db.atomic():
        return _pair_user(requester, get_or_create_user(requester, user_name), phrase)


def _pair_user(requester: Requester, user: User, phrase: str) -> Pairing:
    ratelimit.check(ratelimit.PAIRING, requester, user.name)
    entry = lifecycle.live_phrases().filter(phrase=phrase).first()  # expired: as unknown
    if entry is None or not PairingPhrase.objects.filter(pk=entry.pk, used=False).update(
        used=True
    ):
        raise ApiError(409, 409, "No pending pairing requests with specified pairing_phrase")
    return _new_pairing(requester, user, Pairing.PHRASE, phone=entry.phone)


def pair_qr(requester: Requester, params: Params) -> Pairing:
    """P2: a pending pairing that a phone claims by scanning its QR code."""
    name = params.text("user_name", required=True, max_length=NAME_LENGTH)
    ratelimit.check(ratelimit.PAIRING, requester, name)
    with db.atomic():
        user = get_or_create_user(requester, name)
        return _new_pairing(requester, user, Pairing.QR)


def pair_sms(requester: Requester, params: Params) -> Pairing:
    """P3: pair by SMS; the phone with that number (created if need be) receives it."""
    messaging.require(messaging.SMS)  # a service without an SMS sender: 403, nothing written
    number = params.text("phone_number", required=True, max_length=32).strip()
    if not PHONE_NUMBER.match(number):
        raise bad_request("Invalid phone_number.")
    country = params.text("phone_country", max_length=8)
    if country is not None and not country.lstrip("+").isdigit():
        raise bad_request("Invalid phone_country.")
    name = params.text("user_name", required=True, max_length=NAME_LENGTH)
    ratelimit.check(ratelimit.PAIRING, requester, name)
    with db.atomic():
        user = get_or_create_user(requester, name)
        phone = Phone.objects.filter(phone_number=number).first()
        if phone is None:
            phone = Phone.objects.create(name=f"Phone {number}", phone_number=number)
        pairing = _new_pairing(requester, user, Pairing.SMS, phone=phone, phone_number=number)
    text = OutgoingMessage(
        kind=messaging.SMS,
        to=number,
        requester_id=str(requester.pk),
        body=f"{requester.name} wants to pair with Toopher as {name}. Reply YES to allow.",
    )
    try:  # after the transaction: no lock is held while the text goes out
        messaging.send(text)
    except messaging.NotSent:
        _withdraw_pairing(pairing)
        raise
    return pairing


def _withdraw_pairing(pairing: Pairing) -> None:
    """Deactivate a pairing whose text could not be sent (audited: it was recorded made)."""
    _deactivate(Pairing.objects.filter(pk=pairing.pk), audit.PAIRING_DEACTIVATED)


def reset_link(requester: Requester, pairing: Pairing, base_url: str, params: Params) -> str:
    """P6: a one-time URL that deactivates the pairing (only its token's hash is kept)."""
    return reset_links.create(
        pairing,
        base_url,
        question=params.text("security_question", max_length=500) or "",
        answer=params.text("security_answer", max_length=500) or "",
    )


def send_reset_link(requester: Requester, pairing: Pairing, base_url: str, params: Params) -> None:
    """P7: email a reset link (:func:`.reset_links.email`: 403 when the service sends no
    email, 503 when the mail server fails, and then no link is left behind)."""
    email = params.text("reset_email", required=True, max_length=320)
    if "@" not in email or any(c.isspace() for c in email):
        raise bad_request("Invalid reset_email.")
    reset_links.email(requester, pairing, base_url, email)


def update_pairing(requester: Requester, pairing: Pairing, params: Params) -> Pairing:
    """P8: ``deactivated=true`` deactivates the pairing (it cannot be undone)."""
    deactivated = params.boolean("deactivated")
    if deactivated is False and pairing.deactivated:
        raise bad_request("A deactivated pairing cannot be reactivated.")
    if deactivated:
        _deactivate(Pairing.objects.filter(pk=pairing.pk), audit.PAIRING_DEACTIVATED)
        pairing.refresh_from_db()
    return pairing


def _deactivate(pairings, event: str, by: str = "requester") -> int:
    """Deactivate the active ones among ``pairings``, end their pending requests, audit
    (``by`` who: the requester, a device, an administrator); how many."""
    with db.atomic():
        active = pairings.filter(deactivated=False).select_for_update()
        ids = list(active.values_list("id", flat=True))
        Pairing.objects.filter(id__in=ids).update(deactivated=True)
        AuthenticationRequest.objects.filter(pairing_id__in=ids, pending=True).update(
            pending=False, granted=False, reason="Pairing has been deactivated"
        )
        audit.pairings_event(event, ids, by=by)
    return len(ids)


# --- authentication (A1-A4) ------------------------------------------------------------------


def _check_usable(user: User, pairing: Pairing) -> None:
    if not user.toopher_authentication_enabled:
        raise user_disabled()
    if pairing.deactivated:
        raise pairing_deactivated()
    if not pairing.enabled:
        raise pairing_not_authorized()


def _pairing_of_user(requester: Requester, name: str) -> tuple[User, Pairing]:
    user = find_user(requester, name)
    if user is None:
        raise user_unknown()
    usable = user.pairings.filter(state=Pairing.ENABLED, deactivated=False).first()
    latest = usable or user.pairings.first()
    if latest is None:
        if not user.toopher_authentication_enabled:
            raise user_disabled()
        raise user_unknown()
    return user, latest


def _terminal(user: User, params: Params) -> Terminal:
    key = params.text(
        "requester_specified_terminal_id", "terminal_name_extra", max_length=NAME_LENGTH
    )
    name = params.text("terminal_name", max_length=NAME_LENGTH)
    terminal_id = params.text("terminal_id", max_length=64)
    if terminal_id is not None:
        tid = _uuid_or_404(terminal_id, "terminal")
        terminal = Terminal.objects.filter(user=user, id=tid).first()
        if terminal is None:
            raise terminal_unknown()
        if name is not None and name != terminal.name:
            terminal.name = name
            terminal.save(update_fields=["name", "modified"])
        return terminal
    if key is not None:
        terminal = Terminal.objects.filter(user=user, requester_specified_id=key).first()
        if terminal is None:
            if name is None:
                raise terminal_unknown()
            return Terminal.objects.create(user=user, name=name, requester_specified_id=key)
        if name is not None and name != terminal.name:
            terminal.name = name
            terminal.save(update_fields=["name", "modified"])
        return terminal
    name = name or ""
    terminal = lookups.unkeyed_terminal(user.id, name)
    if terminal is None:
        terminal = Terminal.objects.create(user=user, name=name, requester_specified_id="")
    return terminal


def initiate(requester: Requester, params: Params) -> AuthenticationRequest:
    """A1: start an authentication by pairing id or by user name (zero storage)."""
    pairing_id = params.text("pairing_id", max_length=64)
    user_name = params.text("user_name", max_length=NAME_LENGTH)
    action_name = params.text("action_name", "action", max_length=NAME_LENGTH) or DEFAULT_ACTION
    automation_allowed = params.boolean("automation_allowed", default=True)
    challenge_required = params.boolean("challenge_required", default=False)
    otp = params.text("otp", max_length=20)
    with db.atomic():
        if pairing_id is not None:
            pairing = get_pairing(requester, pairing_id)
            user = pairing.user
        elif user_name is not None:
            user, pairing = _pairing_of_user(requester, user_name)
        else:
            raise bad_request("Missing required parameter: pairing_id or user_name.")
        _check_usable(user, pairing)
        ratelimit.check(ratelimit.PUSH if otp is None else ratelimit.CODE, requester, user.name)
        terminal = _terminal(user, params)
        auth = start_authentication(
            requester,
            pairing,
            terminal,
            action_name,
            automation_allowed=bool(automation_allowed),
            challenge_required=bool(challenge_required),
            otp=otp,
        )
    _share_relations(auth, requester)  # the rows in hand: answered without reading it back
    return auth


#: New authentication requests, inserted without the ORM's query building (A1 is the
#: call that writes most).
_NEW_REQUESTS = RowInsert(AuthenticationRequest)


def start_authentication(
    requester: Requester,
    pairing: Pairing,
    terminal: Terminal,
    action_name: str,
    *,
    automation_allowed: bool = True,
    challenge_required: bool = False,
    otp: str | None = None,
) -> AuthenticationRequest:
    """Create the request; decide it at once with an OTP or a matching automation rule;
    one that waits for the phone gets its numbers when the requester matches numbers."""
    action = get_or_create_action(requester, action_name)
    auth = AuthenticationRequest(
        requester=requester,
        user=pairing.user,
        pairing=pairing,
        terminal=terminal,
        action=action,
        automation_allowed=automation_allowed,
        challenge_required=challenge_required,
    )
    if otp is not None:
        valid = totp.verify(pairing.otp_secret, otp.strip())
        auth.pending, auth.granted, auth.totp_valid = False, valid, valid
        auth.reason = "OTP valid" if valid else "Invalid OTP"
    elif automation_allowed:
        rule = lookups.automation_rule(pairing.pk, terminal.pk, action.pk)
        if remembered.applies(rule):
            assert rule is not None
            auth.pending, auth.granted, auth.automated = False, rule.grant, True
            auth.reason = "Automatically granted" if rule.grant else "Automatically denied"
    if auth.pending and requester.number_matching:
        numbers.assign(auth)
    # One unit (the caller's transaction, or its own): the push goes after the commit.
    with transaction.atomic(using=db.alias(), savepoint=False):
        push_sending.request_created(auth)  # its push_state, which the INSERT stores
        _NEW_REQUESTS.insert(auth)
        audit.request_initiated(auth)
    return auth


def otp_auth(requester: Requester, auth: AuthenticationRequest, params: Params):
    """A3: decide a pending request with the pairing's current OTP."""
    otp = params.text("otp", required=True, max_length=20).strip()
    if not auth.pending:
        return auth
    ratelimit.check(ratelimit.CODE, requester, auth.user.name)
    valid = totp.verify(auth.pairing.otp_secret, otp)
    with db.atomic():
        if AuthenticationRequest.objects.filter(pk=auth.pk, pending=True).update(
            pending=False,
            granted=valid,
            totp_valid=valid,
            reason="OTP valid" if valid else "Invalid OTP",
        ):
            audit.request_event(audit.AUTH_OTP_CHECKED, auth, "granted" if valid else "denied")
    return get_authentication_request(requester, str(auth.pk))


def cancel(requester: Requester, auth: AuthenticationRequest) -> AuthenticationRequest:
    """A4: cancel a pending request (a decided one is returned unchanged).

    The phone drops it; answering it there afterwards changes nothing.
    """
    with db.atomic():
        if AuthenticationRequest.objects.filter(pk=auth.pk, pending=True).update(
            pending=False, granted=False, cancelled=True, reason=lifecycle.CANCELLED_REASON
        ):
            audit.request_event(audit.AUTH_CANCELLED, auth, "cancelled")
    return get_authentication_request(requester, str(auth.pk))


# --- users (U1-U6) -------------------------------------------------------------------------


def create_user(requester: Requester, params: Params) -> User:
    name = params.text("name", "user_name", required=True, max_length=NAME_LENGTH)
    try:
        with db.atomic():
            return User.objects.create(requester=requester, name=name)
    except IntegrityError as exc:
        raise ApiError(409, 409, "A user with this name already exists.") from exc


def users_by_name(requester: Requester, params: Params) -> list[User]:
    name = params.text("name", "user_name", required=True, max_length=NAME_LENGTH)
    return list(User.objects.select_related("requester").filter(requester=requester, name=name))


def update_user(requester: Requester, user: User, params: Params) -> User:
    enabled = params.boolean("toopher_authentication_enabled")
    disabled = params.boolean("disable_toopher_auth")
    name = params.text("name", max_length=NAME_LENGTH)
    if enabled is not None and disabled is not None and enabled == disabled:
        raise bad_request("toopher_authentication_enabled and disable_toopher_auth disagree.")
    if enabled is None and disabled is not None:
        enabled = not disabled
    if enabled is not None:
        user.toopher_authentication_enabled = enabled
    if name is not None and name != user.name:
        if find_user(requester, name) is not None:
            raise ApiError(409, 409, "A user with this name already exists.")
        user.name = name
    user.save()
    return user


def reset_user(requester: Requester, params: Params) -> None:
    """U5: deactivate every pairing of the user."""
    name = params.text("user_name", "name", required=True, max_length=NAME_LENGTH)
    user = find_user(requester, name)
    if user is None:
        raise user_unknown()
    _deactivate(user.pairings.all(), audit.PAIRING_RESET)


def user_pairings(requester: Requester, user: User, params: Params) -> list[Pairing]:
    pairings = Pairing.objects.select_related("user", "requester").filter(user=user)
    deactivated = params.boolean("deactivated")
    if deactivated is not None:
        pairings = pairings.filter(deactivated=deactivated)
    return list(pairings)


# --- terminals (T1-T3) ---------------------------------------------------------------------


def create_terminal(requester: Requester, params: Params) -> Terminal:
    """T1: name the terminal (user, requester-specified id); renames an existing one."""
    user_name = params.text("user_name", required=True, max_length=NAME_LENGTH)
    name = params.text("name", "terminal_name", required=True, max_length=NAME_LENGTH)
    key = params.text(
        "name_extra",
        "requester_specified_id",
        "terminal_name_extra",
        "requester_specified_terminal_id",
        required=True,
        max_length=NAME_LENGTH,
    )
    user = find_user(requester, user_name)
    if user is None:
        raise user_unknown()
    with db.atomic():
        terminal = Terminal.objects.filter(user=user, requester_specified_id=key).first()
        if terminal is None:
            terminal = Terminal.objects.create(user=user, name=name, requester_specified_id=key)
        elif terminal.name != name:
            terminal.name = name
            terminal.save(update_fields=["name", "modified"])
    return terminal


def update_terminal(requester: Requester, terminal: Terminal, params: Params) -> Terminal:
    """T3: change the terminal's requester-specified id and/or name."""
    key = params.text(
        "name_extra",
        "requester_specified_id",
        "terminal_name_extra",
        max_length=NAME_LENGTH,
        empty_is_absent=False,
    )
    name = params.text("name", "terminal_name", max_length=NAME_LENGTH)
    if key is not None:
        terminal.requester_specified_id = key
    if name is not None:
        terminal.name = name
    terminal.save()
    return terminal
