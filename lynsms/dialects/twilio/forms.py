"""What a Twilio client sends: the form of ``POST Messages.json`` and the list's query.

Only what Twilio itself checks before creating a message is checked here (presence,
``StatusCallback``, ``ValidityPeriod``, scheduling); numbers, sender, body length and
the schedule date are the send service's to judge, and its refusals are translated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import parse_qsl

from pydantic import ValidationError

from lynsms.dialects.twilio import errors as e
from lynsms.dialects.twilio.callbacks import check_url
from lynsms.dialects.twilio.errors import TwilioError, bad_request
from lynsms.dialects.twilio.sids import id_prefix
from lynsms.kit.clock import isoformat, parse_timestamp, utcnow
from lynsms.kit.phones import InvalidNumber, normalise
from lynsms.messages.schemas import SendRequest

Form = dict[str, list[str]]
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_VALIDITY = 36_000  # seconds, Twilio's limit
NATIVE_MIN_VALIDITY = 60  # below it the native schema takes an expire_at instead
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
LIST_FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")


def parse_form(content_type: str, body: bytes) -> Form:
    """The POST fields; a body that is not form-encoded carries none (as at Twilio)."""
    if content_type.split(";")[0].strip().lower() != FORM_TYPE:
        return {}
    form: Form = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        form.setdefault(name, []).append(value)
    return form


def first(form: Form, name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


@dataclass(frozen=True, slots=True)
class Create:
    request: SendRequest
    status_callback: str | None


def create_request(form: Form) -> Create:
    """The native send request a Twilio ``Create Message`` form stands for."""
    to = first(form, "To")
    if not to:
        raise bad_request(e.TO_REQUIRED, "A 'To' phone number is required.")
    sender, body = _sender(form), first(form, "Body") or None
    media = [url for url in form.get("MediaUrl") or [] if url]
    if not body and not media:
        raise bad_request(e.BODY_REQUIRED, "Message body is required.")
    callback = first(form, "StatusCallback") or None
    if callback is not None and not check_url(callback):
        raise bad_request(e.INVALID_CALLBACK, f"The StatusCallback URL {callback} is not valid.")
    send_at = _send_at(form)
    fields: dict[str, object] = {"to": to, "from": sender, "body": body, "send_at": send_at}
    if media:  # an MMS (US and CA only, else 21612 mms_not_supported)
        fields["media_urls"] = media
    fields.update(_validity(form, send_at))
    try:
        request = SendRequest.model_validate(fields)
    except ValidationError as exc:
        raise _invalid(exc) from None
    return Create(request, callback)


def _sender(form: Form) -> str:
    sender, service = first(form, "From"), first(form, "MessagingServiceSid")
    if sender:
        return sender
    if service:
        raise bad_request(
            e.MESSAGING_SERVICE,
            f"The Messaging Service Sid {service} is invalid: send with a 'From' sender.",
        )
    raise bad_request(e.FROM_REQUIRED, "A 'From' phone number is required.")


def _send_at(form: Form) -> str | None:
    """``SendAt`` schedules the message (``ScheduleType``, if given, must be ``fixed``;
    no Messaging Service is needed, API.md §12)."""
    kind, send_at = first(form, "ScheduleType"), first(form, "SendAt") or None
    if kind is not None and kind != "fixed":
        raise bad_request(e.SCHEDULE_TYPE, f"ScheduleType '{kind}' is not supported: use fixed.")
    if kind == "fixed" and send_at is None:
        raise bad_request(e.SEND_AT_MISSING, "SendAt is required when ScheduleType is fixed.")
    return send_at


def _validity(form: Form, send_at: str | None) -> dict[str, object]:
    raw = first(form, "ValidityPeriod")
    if raw is None:
        return {}
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_VALIDITY:
        raise bad_request(
            e.INVALID_VALIDITY,
            "Validity period can only be set to integers between 1 and 36,000 seconds.",
        )
    seconds = int(raw)
    if seconds >= NATIVE_MIN_VALIDITY:
        return {"validity_period": seconds}
    start = utcnow()
    if send_at is not None:
        try:
            start = parse_timestamp(send_at)
        except ValueError:
            return {}  # the service refuses the SendAt itself
    return {"expire_at": isoformat(start + timedelta(seconds=seconds))}


def _invalid(exc: ValidationError) -> TwilioError:
    problem = exc.errors(include_url=False)[0]
    field = str(problem["loc"][0]) if problem["loc"] else ""
    if field == "from":
        return bad_request(e.INVALID_FROM, "The 'From' sender is not valid.")
    if field == "media_urls":
        return bad_request(e.INVALID_MEDIA_URL, "Invalid media URL(s): http(s), at most 10.")
    return bad_request(e.INVALID_PARAMETER, f"Invalid value for {field or 'the request'}.")


def cancel_status(form: Form) -> None:
    """``POST Messages/{Sid}.json`` updates one thing here: ``Status=canceled``."""
    status = first(form, "Status")
    if form.get("Body") is not None:
        raise bad_request(e.INVALID_PARAMETER, "Redacting a message body is not supported.")
    if status != "canceled":
        raise bad_request(e.INVALID_PARAMETER, "Status can only be updated to 'canceled'.")


@dataclass(frozen=True, slots=True)
class ListQuery:
    """``GET Messages.json``: its filters, and where the page starts."""

    filters: dict[str, object]
    echo: dict[str, str]  # the filters as given, for the page links
    page: int
    page_size: int
    token: str | None
    older_than: str | None  # an id prefix: the page continues after it (``PA`` token)
    newer_than: str | None  # an id prefix: the page ends before it (``PB`` token)


def list_query(params: dict[str, str]) -> ListQuery:
    page_size = _integer(params, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    page = _integer(params, "Page", 0, 0, None)
    token = params.get("PageToken") or None
    older, newer = _token(token)
    filters: dict[str, object] = {}
    if params.get("To"):
        filters["to"] = _number(params["To"])
    if params.get("From"):
        filters["from"] = _number(params["From"])
    filters.update(_date_sent(params))
    echo = {name: params[name] for name in LIST_FILTERS if params.get(name)}
    return ListQuery(filters, echo, page, page_size, token, older, newer)


def _number(raw: str) -> str:
    """A number as we store it (E.164); a sender id as given."""
    try:
        return normalise(raw)
    except InvalidNumber:
        return raw.strip()


def _integer(params: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        bound = f"between {low} and {high}" if high is not None else f"{low} or more"
        raise bad_request(e.INVALID_PARAMETER, f"{name} must be an integer {bound}.")
    return int(raw)


def _token(token: str | None) -> tuple[str | None, str | None]:
    """``PA<sid>``: the records after that message; ``PB<sid>``: those before it."""
    if token is None:
        return None, None
    prefix = id_prefix(token[2:])
    if token[:2] not in ("PA", "PB") or prefix is None:
        raise bad_request(e.INVALID_PARAMETER, "PageToken is not valid.")
    return (prefix, None) if token.startswith("PA") else (None, prefix)


def _date_sent(params: dict[str, str]) -> dict[str, object]:
    """``DateSent`` (that UTC day), ``DateSent<`` (on or before: the end of a date, or the
    second of a date-time) and ``DateSent>`` (on or after), as ``sent_from``/``sent_until``
    bounds (the end exclusive). Twilio's client writes a date as midnight, hence the day."""
    bounds: dict[str, object] = {}
    if params.get("DateSent"):
        day = _moment(params["DateSent"]).replace(hour=0, minute=0, second=0)
        bounds["sent_from"], bounds["sent_until"] = day, day + timedelta(days=1)
    if params.get("DateSent<"):
        raw = params["DateSent<"]
        bounds["sent_until"] = _moment(raw) + (_DAY if _is_date(raw) else _SECOND)
    if params.get("DateSent>"):
        bounds["sent_from"] = _moment(params["DateSent>"])
    return bounds


_DAY, _SECOND = timedelta(days=1), timedelta(seconds=1)


def _is_date(raw: str) -> bool:
    return len(raw.strip()) == len("2026-11-25")


def _moment(raw: str) -> datetime:
    """A date (its midnight, UTC) or a date-time, to the second."""
    try:
        if _is_date(raw):
            return parse_timestamp(date.fromisoformat(raw.strip()).isoformat())
        return parse_timestamp(raw).replace(microsecond=0)
    except ValueError:
        raise bad_request(e.INVALID_PARAMETER, f"DateSent '{raw}' is not a date.") from None
