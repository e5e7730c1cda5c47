import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.errors import CueError
from apps.core.http import RETRY_AFTER_SECONDS

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = {
    "detail": (
        "The database is unavailable for a moment. Send the same request again in a few "
        "seconds: events with the same idempotency keys are stored once."
    ),
    "code": "database_unavailable",
}


def exception_handler(exc, context):
    """Maps domain errors to 400 with field errors, and a lost database to a 503 the client
    can retry, in one place for the whole API."""
    if isinstance(exc, CueError):
        return Response(exc.as_field_errors(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, OperationalError | InterfaceError):
        # A dropped connection, a restart or failover: the request's transaction did not
        # commit, or it did and a repeat is answered as a duplicate. Either way: retry.
        logger.warning("Database unavailable; answered 503", exc_info=exc)
        return Response(
            DATABASE_UNAVAILABLE,
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return drf_exception_handler(exc, context)
