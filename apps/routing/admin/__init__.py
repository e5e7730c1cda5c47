"""Admin for routing: tasks (read-only; they are worked on /tasks/), routing rules with a
dry run, intent phrases, webhook endpoints and their read-only delivery log."""

from django.contrib import admin

from apps.routing.admin import rules, tasks, webhooks  # noqa: F401
from apps.routing.forms import TaskSignInForm

admin.site.login_form = TaskSignInForm
