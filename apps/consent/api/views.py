from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.consent.api.serializers import (
    ConsentRecordSerializer,
    ConsentRecordWriteSerializer,
    ContactConsentSerializer,
)
from apps.consent.models import ConsentRecord
from apps.consent.selectors import consent_ledger
from apps.consent.services import Evidence, consent_record
from apps.contacts.api.access import contacts_visible_to
from apps.contacts.api.views import BAD_REQUEST
from apps.core.api.parsers import StrictJSONParser
from apps.core.api.permissions import ModelPermissions


class LedgerPermissions(ModelPermissions):
    """The ledger is append-only: reading and appending are the only methods it has, so
    any other answers 405 whatever the caller's role."""

    perms_map = {
        method: perms
        for method, perms in ModelPermissions.perms_map.items()
        if method in ("GET", "HEAD", "OPTIONS", "POST")
    }


class ContactConsentView(APIView):
    """A contact's consent: the current state per channel and purpose, and the ledger it
    is derived from. POST appends a ledger row; rows are never changed or deleted."""

    queryset = ConsentRecord.objects.none()  # reading needs view_, appending add_consentrecord
    permission_classes = [LedgerPermissions]
    parser_classes = [StrictJSONParser]

    @extend_schema(responses={200: ContactConsentSerializer})
    def get(self, request, contact_id):
        contact = self._contact(contact_id)
        states = contact.consent_states.order_by("channel", "purpose")
        body = {"state": states, "ledger": consent_ledger(contact=contact)}
        return Response(ContactConsentSerializer(body, context={"request": request}).data)

    @extend_schema(
        request=ConsentRecordWriteSerializer,
        responses={201: ConsentRecordSerializer, 400: BAD_REQUEST},
    )
    def post(self, request, contact_id):
        contact = self._contact(contact_id)
        serializer = ConsentRecordWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        evidence = Evidence(**data.pop("evidence", {}), actor=request.user)
        record = consent_record(contact=contact, evidence=evidence, **data)
        answer = ConsentRecordSerializer(record, context={"request": request}).data
        return Response(answer, status=status.HTTP_201_CREATED)

    def _contact(self, contact_id):
        return get_object_or_404(contacts_visible_to(self.request.user), pk=contact_id)
