"""The customer's lifecycle stages and pipelines. A stage that contacts or opportunities
are at cannot be deleted, nor its key changed: the rows hold the key."""

from django.contrib import admin

from apps.contacts.models import LifecycleStageDefinition, Pipeline, PipelineStage
from apps.contacts.stages import lifecycle_stage_in_use, pipeline_stage_in_use
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
        raise NotImplementedError

    def has_delete_permission(self, request, obj=None):
        if obj is not None and self.in_use(obj):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(LifecycleStageDefinition)
class LifecycleStageDefinitionAdmin(StageAdmin):
    list_display = ["label", "key", "order", "meaning"]
    ordering = ["order", "id"]

    def in_use(self, obj) -> bool:
        return lifecycle_stage_in_use(obj.key)


@admin.register(Pipeline)
class PipelineAdmin(StageAdmin):
    list_display = ["label", "key", "is_default"]

    def in_use(self, obj) -> bool:
        return obj.is_default or obj.opportunities.exists()


@admin.register(PipelineStage)
class PipelineStageAdmin(StageAdmin):
    list_display = ["label", "key", "pipeline", "order", "meaning"]
    list_filter = ["pipeline"]
    list_select_related = ["pipeline"]
    ordering = ["pipeline", "order", "id"]

    def get_readonly_fields(self, request, obj=None):
        return ["pipeline", "key"] if obj is not None else []

    def in_use(self, obj) -> bool:
        return pipeline_stage_in_use(obj)
