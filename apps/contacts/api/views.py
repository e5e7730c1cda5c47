from django.db import transaction
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import generics, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.contacts.api.access import UpsertPermissions, contacts_visible_to
from apps.contacts.api.event_input import events_body_parse
from apps.contacts.api.event_intake import CREATED, DUPLICATE, ERROR, events_intake
from apps.contacts.api.filters import ContactFilter, OpportunityFilter, personal_params_refuse
from apps.contacts.api.serializers import (
    EVENT_REQUEST,
    FIELD_ERRORS,
    ContactSerializer,
    ContactUpsertSerializer,
    ContactWriteSerializer,
    EventBatchResultSerializer,
    EventResultSerializer,
    OpportunitySerializer,
    OpportunityWriteSerializer,
)
from apps.contacts.models import Company, Event, Opportunity
from apps.contacts.services import (
    company_upsert,
    contact_update,
    contact_upsert,
    opportunity_upsert,
)
from apps.core.api.parsers import StrictJSONParser
from apps.core.batches import collector_paused

BAD_REQUEST = OpenApiResponse(FIELD_ERRORS, description="Field errors.")
ATTRIBUTE_PARAMETER = OpenApiParameter(
    name="attr.<key>",
    type=str,
    description=(
        "Contacts whose custom attribute <key> equals the value, e.g. `attr.plan=pro`,"
        " `attr.seats=10`, `attr.trial=true`, `attr.renewal_on=2026-09-30`; read by the"
        " attribute's type (text ignores case; a list attribute holds the item). Several"
        " attr. parameters must all hold. An unknown key or a value its type cannot take"
        ' answers 400, e.g. {"attr.plan": ["\'gold\' is not an option; choose from free,'
        ' pro."]}.'
    ),
)


class IdCursorPagination(CursorPagination):
    ordering = "-id"


class EventsView(APIView):
    """Behaviour events in: one event, or `{"events": [...]}` with up to 1000.

    A batch always answers 200 with a result per event; its good events are stored even
    when others are bad. A repeated idempotency key stores nothing and answers `duplicate`
    with the original event's id.
    """

    parser_classes = [StrictJSONParser]
    queryset = Event.objects.none()  # posting needs contacts.add_event

    def dispatch(self, request, *args, **kwargs):
        with collector_paused():
            response = super().dispatch(request, *args, **kwargs)
            response.render()  # the results are objects too: turned into bytes here
        return response

    @extend_schema(
        request=EVENT_REQUEST,
        responses={
            201: EventResultSerializer,
            200: PolymorphicProxySerializer(
                component_name="EventBatchOrDuplicate",
                serializers=[EventBatchResultSerializer, EventResultSerializer],
                resource_type_field_name=None,
            ),
            400: BAD_REQUEST,
        },
    )
    def post(self, request):
        items, single = events_body_parse(request.data)
        outcomes = events_intake(
            items=items,
            actor=request.user,
            may_create_contacts=request.user.has_perm("contacts.add_contact"),
        )
        if single:
            return _event_response(outcomes[0])
        statuses = [outcome.status for outcome in outcomes]
        return Response(
            {
                "results": [outcome.as_dict() for outcome in outcomes],
                "created": statuses.count(CREATED),
                "duplicates": statuses.count(DUPLICATE),
                "errors": statuses.count(ERROR),
            }
        )


def _event_response(outcome) -> Response:
    if outcome.status == ERROR:
        return Response(outcome.errors, status=status.HTTP_400_BAD_REQUEST)
    code = status.HTTP_201_CREATED if outcome.status == CREATED else status.HTTP_200_OK
    return Response({"status": outcome.status, "id": outcome.id}, status=code)


class ContactsView(generics.ListAPIView):
    """Contacts, newest first; POST creates one or updates the one its external_id, email
    or phone names (in that order). Sales reps see only the contacts they own."""

    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    pagination_class = IdCursorPagination
    permission_classes = [UpsertPermissions]
    parser_classes = [StrictJSONParser]

    def get_queryset(self):
        visible = contacts_visible_to(self.request.user).select_related("company", "owner")
        return visible.prefetch_related("external_ids")  # one query for the page's ids

    @extend_schema(
        parameters=[ATTRIBUTE_PARAMETER],
        responses=ContactSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        personal_params_refuse(request.query_params)
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ContactUpsertSerializer,
        responses={201: ContactSerializer, 200: ContactSerializer, 400: BAD_REQUEST},
    )
    def post(self, request):
        data = _validated(ContactUpsertSerializer, request.data)
        changed_at = data.pop("lifecycle_stage_changed_at", None)
        with transaction.atomic():
            result = contact_upsert(fields=_contact_fields(data), stage_changed_at=changed_at)
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(ContactSerializer(result.contact).data, status=code)


class ContactView(generics.RetrieveAPIView):
    serializer_class = ContactSerializer
    permission_classes = [UpsertPermissions]
    parser_classes = [StrictJSONParser]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return contacts_visible_to(self.request.user).select_related("company", "owner")

    @extend_schema(
        request=ContactWriteSerializer, responses={200: ContactSerializer, 400: BAD_REQUEST}
    )
    def patch(self, request, pk):
        contact = self.get_object()
        data = _validated(ContactWriteSerializer, request.data, partial=True)
        changed_at = data.pop("lifecycle_stage_changed_at", None)
        with transaction.atomic():
            contact = contact_update(
                contact=contact, fields=_contact_fields(data), stage_changed_at=changed_at
            )
        return Response(ContactSerializer(contact).data)


class OpportunitiesView(generics.ListAPIView):
    """Opportunities, newest first; POST creates or updates one by its external_id. A stage
    change is recorded with its time and as a `stage_changed` event of its contact."""

    queryset = Opportunity.objects.select_related("pipeline")
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilter
    pagination_class = IdCursorPagination
    permission_classes = [UpsertPermissions]
    parser_classes = [StrictJSONParser]

    @extend_schema(
        request=OpportunityWriteSerializer,
        responses={201: OpportunitySerializer, 200: OpportunitySerializer, 400: BAD_REQUEST},
    )
    def post(self, request):
        data = _validated(OpportunityWriteSerializer, request.data)
        # Only the status code depends on this read; the upsert itself locks the row.
        known = Opportunity.objects.filter(external_id=data["external_id"]).exists()
        opportunity = opportunity_upsert(**data)
        code = status.HTTP_200_OK if known else status.HTTP_201_CREATED
        return Response(OpportunitySerializer(opportunity).data, status=code)


def _validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _contact_fields(data: dict) -> dict:
    name = data.pop("company_name", None)
    if name:
        data["company"] = _company_named(name)
    return data


def _company_named(name: str) -> Company:
    """The company of that name (the oldest, when several share it), or a new one."""
    found = Company.objects.filter(name__iexact=name).order_by("pk").first()
    return found or company_upsert(name=name)
