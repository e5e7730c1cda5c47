"""The customer's lifecycle stages and pipelines. A stage that contacts or opportunities
are at cannot be deleted, nor its key changed: the rows hold the key. A stage that a
segment or a journey names cannot be deleted either: the delete page lists them, so the
admin knows what to change first."""

from django.contrib import admin

from apps.contacts.models import LifecycleStageDefinition, Pipeline, PipelineStage
from apps.contacts.stages import (
    lifecycle_stage_held,
    lifecycle_stage_users,
    pipeline_stage_held,
    pipeline_stage_users,
    pipeline_users,
)
from apps.core.admin import HistoryAdmin


class StageAdmin(HistoryAdmin):
    """Keys are kept once saved; deleting goes one row at a time, through the check."""

    def get_readonly_fields(self, request, obj=None):
        return ["key"] if obj is not None else []

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def in_use(self, obj) -> bool:
        """Whether rows are at it: then no one may delete it."""
        raise NotImplementedError

    def users(self, obj) -> list[str]:
        """What names it (segments, journeys), by name: the delete page refuses with them."""
        raise NotImplementedError

    def has_delete_permission(self, request, obj=None):
        if obj is not None and self.in_use(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for obj in objs:
            protected += [f"{name} names {obj}" for name in self.users(obj)]
        return deleted, counts, perms_needed, protected


@admin.register(LifecycleStageDefinition)
class LifecycleStageDefinitionAdmin(StageAdmin):
    list_display = ["label", "key", "order", "meaning"]
    ordering = ["order", "id"]

    def in_use(self, obj) -> bool:
        return lifecycle_stage_held(obj.key)

    def users(self, obj) -> list[str]:
        return lifecycle_stage_users(obj.key)


@admin.register(Pipeline)
class PipelineAdmin(StageAdmin):
    list_display = ["label", "key", "is_default"]

    def in_use(self, obj) -> bool:
        return obj.is_default or obj.opportunities.exists()

    def users(self, obj) -> list[str]:
        return pipeline_users(obj)


@admin.register(PipelineStage)
class PipelineStageAdmin(StageAdmin):
    list_display = ["label", "key", "pipeline", "order", "meaning"]
    list_filter = ["pipeline"]
    list_select_related = ["pipeline"]
    ordering = ["pipeline", "order", "id"]

    def get_readonly_fields(self, request, obj=None):
        return ["pipeline", "key"] if obj is not None else []

    def in_use(self, obj) -> bool:
        return pipeline_stage_held(obj)

    def users(self, obj) -> list[str]:
        return pipeline_stage_users(obj)
