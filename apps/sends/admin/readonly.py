from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the pipeline writes: viewable by those who may view, changeable by no one
    (an admin included), so the log stays what actually happened."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
