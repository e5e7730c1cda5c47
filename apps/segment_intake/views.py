"""/segment/v1/{batch,identify,track,page,screen,group,alias}: Segment's HTTP Tracking API.

Answers as Segment does: 200 `{"success": true}` once the request is authenticated and
readable, whatever became of its messages (a bad one is kept as a rejection, with why).
401 for a missing, unknown or revoked write key; 400 for a body that is not JSON or is over
Segment's size limits. The body may be gzip-compressed (`Content-Encoding: gzip`).

Each write key has a budget of requests a minute (THROTTLE_SEGMENT_PER_MINUTE), so a leaked
key cannot flood Cue; a client whose requests keep being refused (bad keys) is turned away
for the rest of the minute before its key is even looked up (THROTTLE_SEGMENT_REFUSALS_PER_
MINUTE). Over budget: 429 with Retry-After, nothing stored; Segment's clients retry a 429
after Retry-After, so the messages arrive later rather than being lost.
"""

import io
import zlib

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ParseError

from apps.contacts.errors import ContactsError
from apps.core.api.parsers import StrictJSONParser
from apps.core.batches import collector_paused
from apps.core.http import client_ip
from apps.core.ratelimit import WINDOW_SECONDS, budget_exhausted, budget_spend
from apps.segment_intake.keys import basic_auth_user, write_key_authenticate
from apps.segment_intake.messages import MAX_MESSAGE_BYTES
from apps.segment_intake.models import SegmentWriteKey
from apps.segment_intake.services import segment_messages_intake

MAX_BATCH_BYTES = 500 * 1024  # Segment's limit per batch request
UNAUTHORIZED = "Give a valid write key as the Basic auth user name."


class _BadRequest(Exception):
    pass


@csrf_exempt
@require_POST
def segment_call(request: HttpRequest, call: str) -> JsonResponse:
    # As in the events API, from the body's parsing on: a batch is many small objects.
    with collector_paused():
        return _segment_call(request, call)


def _segment_call(request: HttpRequest, call: str) -> JsonResponse:
    limit = MAX_BATCH_BYTES if call == "batch" else MAX_MESSAGE_BYTES
    ip, refusals = client_ip(request), settings.THROTTLE_SEGMENT_REFUSALS_PER_MINUTE
    if budget_exhausted("segment-refusals", ip, per_minute=refusals):
        return _too_many("Too many refused requests.")
    key = basic_auth_user(request.headers.get("Authorization", ""))
    # A key in the header is checked before the body is read, let alone unzipped.
    write_key = write_key_authenticate(key=key) if key else None
    if key and write_key is None:
        return _refused(ip)
    if write_key is not None and not _within_budget(write_key):
        return _too_many("This write key is over its budget of requests a minute.")
    try:
        body = _json_body(request, limit)
    except _BadRequest as error:
        if write_key is None:  # unreadable and unauthenticated: refused like a bad key
            budget_spend("segment-refusals", ip, per_minute=refusals)
        return _answer(400, str(error))
    if write_key is None:  # Segment also takes the key in the body, as `writeKey`
        in_body = body.get("writeKey") if isinstance(body, dict) else None
        write_key = write_key_authenticate(key=in_body if isinstance(in_body, str) else None)
        if write_key is None:
            return _refused(ip)
        if not _within_budget(write_key):
            return _too_many("This write key is over its budget of requests a minute.")
    if call == "batch":
        if not isinstance(body, dict) or not isinstance(body.get("batch"), list):
            return _answer(400, 'Send {"batch": [...]}.')
        messages, type_ = body["batch"], None
    else:
        messages, type_ = [body], call
    sent_at = body.get("sentAt") if isinstance(body, dict) else None
    try:
        segment_messages_intake(
            write_key=write_key, messages=messages, type_=type_, sent_at=sent_at
        )
    except ContactsError as error:  # two requests raced to make the same contacts: retry
        return _answer(503, error.message)
    return JsonResponse({"success": True})


def _json_body(request: HttpRequest, limit: int) -> object:
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > limit:
        raise _BadRequest(f"The body is larger than {limit // 1024} KB.")
    body = request.body
    if len(body) > limit:
        raise _BadRequest(f"The body is larger than {limit // 1024} KB.")
    if request.headers.get("Content-Encoding", "").lower() == "gzip":
        body = _gunzipped(body, limit)
    try:
        return StrictJSONParser().parse(io.BytesIO(body))
    except ParseError as error:
        raise _BadRequest(str(error.detail)) from error


def _gunzipped(body: bytes, limit: int) -> bytes:
    """At most `limit` bytes of the body uncompressed: a small body can unpack to gigabytes."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise _BadRequest("The body is not valid gzip.") from error
    if len(data) > limit or inflater.unconsumed_tail:
        raise _BadRequest(f"The body is larger than {limit // 1024} KB uncompressed.")
    return data


def _within_budget(write_key: SegmentWriteKey) -> bool:
    per_minute = settings.THROTTLE_SEGMENT_PER_MINUTE
    return budget_spend("segment", str(write_key.pk), per_minute=per_minute)


def _refused(ip: str | None) -> JsonResponse:
    budget_spend("segment-refusals", ip, per_minute=settings.THROTTLE_SEGMENT_REFUSALS_PER_MINUTE)
    return _answer(401, UNAUTHORIZED)


def _too_many(message: str) -> JsonResponse:
    response = _answer(429, message)
    response["Retry-After"] = str(WINDOW_SECONDS)
    return response


def _answer(status: int, message: str) -> JsonResponse:
    return JsonResponse({"success": False, "message": message}, status=status)
