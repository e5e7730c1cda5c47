"""/tasks/: a rep's own follow-ups (a manager's: the team's), server-rendered for a phone.

Every view finds the task among those the user may see, so another rep's task is a 404,
not a 403 that would confirm it exists. Actions are POSTs with CSRF; each calls one service
and maps a RoutingError to a message (or to 403 when the user may see but not do it)."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.models import Team
from apps.contacts.selectors import contact_timeline
from apps.core.errors import CueError
from apps.routing import services
from apps.routing.board import board_groups, board_tasks
from apps.routing.errors import RoutingError
from apps.routing.forms import BoardFilterForm, CompleteForm, ReassignForm, ReplyForm
from apps.routing.models import Outcome
from apps.routing.selectors import (
    TIMELINE_SOURCE,
    VIEW,
    empty_list_explained,
    new_task_count,
    task_timeline_entries,
    tasks_for_page,
    tasks_recently_closed,
    tasks_visible_to,
    team_queue,
)
from apps.routing.services.queue import task_may_take, tasks_takeable_by
from apps.routing.services.work import (
    reassign_choices,
    task_may_reassign,
    task_may_work,
    teams_managed_by,
)
from apps.sends.models import Decision

TIMELINE_ENTRIES = 25


def task_page(view):
    """Signed in (else to the login page with ?next=), and allowed to see tasks at all."""

    @login_required
    @wraps(view)
    def checked(request, *args, **kwargs):
        if not request.user.has_perm(VIEW):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return checked


def _task(request, pk: int):
    return get_object_or_404(tasks_visible_to(request.user), pk=pk)


@require_GET
@task_page
def task_list(request):
    user, now = request.user, timezone.now()
    is_manager = user.has_perm("routing.reassign_followuptask")
    board = _board(request, now) if is_manager else {}
    tasks = board.pop("tasks") if is_manager else list(tasks_for_page(user))
    choices = reassign_choices(user, tasks)
    for task in tasks:
        reps = choices.get(task.team_id, [])
        task.reassign_to = [(pk, name) for pk, name in reps if pk != task.owner_id]
    queue = list(team_queue(user))
    context = {
        **board,
        "tasks": tasks,
        "queue": queue,
        "empty_explained": empty_list_explained(user, len(queue), now),
        "new_count": new_task_count(user),
        "breached_count": sum(1 for task in tasks if task.breached_at),
        "is_manager": is_manager,
        "closed": tasks_recently_closed(user),
    }
    return render(request, "routing/task_list.html", context)


def _board(request, now) -> dict:
    """The manager's board: the filtered tasks, their groups (by rep or contact), the form."""
    user = request.user
    teams = Team.objects.all() if user.is_superuser else teams_managed_by(user)
    form = BoardFilterForm(request.GET or None, teams=teams.order_by("name"))
    filters = form.filters()
    tasks = list(board_tasks(user, filters, now))
    groups = board_groups(tasks, now, filters.group_by)
    return {"tasks": tasks, "board_form": form, "groups": groups}


@require_GET
@task_page
def task_detail(request, pk: int):
    task = _task(request, pk)
    services.task_seen(task=task, actor=request.user)
    return render(request, "routing/task_detail.html", _detail_context(request, task))


def _detail_context(request, task, **forms) -> dict:
    user = request.user
    reassign_form = ReassignForm(task=task) if task_may_reassign(user, task) else None
    if reassign_form is not None and not reassign_form.fields["owner"].queryset.exists():
        reassign_form = None  # nobody else in the team to give it to
    return {
        "task": task,
        "new_count": new_task_count(user),
        "may_work": task.is_open and task_may_work(user, task),
        "may_reassign": task.is_open and reassign_form is not None,
        "may_take": task.is_open and task.owner_id is None and task_may_take(user, task),
        "complete_form": forms.get("complete_form") or CompleteForm(),
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "reassign_form": reassign_form,
        "signals": list(task.signals.all()),
        "timeline": _timeline(user, task.contact),
    }


def _timeline(user, contact) -> list:
    """The contact's timeline with only the follow-up tasks the user may see: another
    rep's task on the same contact stays theirs."""
    entries = contact_timeline(contact=contact, limit=TIMELINE_ENTRIES, skip=(TIMELINE_SOURCE,))
    entries += task_timeline_entries(contact, TIMELINE_ENTRIES, tasks=tasks_visible_to(user))
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:TIMELINE_ENTRIES]


def _act(request, task, action, success: str):
    """Runs one service call; a refusal becomes a message, or a 403 when not allowed."""
    try:
        action()
    except CueError as error:
        _refusal(request, error)
    else:
        messages.success(request, success)
    return redirect("routing:task", pk=task.pk)


@require_POST
@task_page
def task_start(request, pk: int):
    task = _task(request, pk)
    return _act(
        request, task, lambda: services.task_start(task=task, actor=request.user), "Started."
    )


@require_POST
@task_page
def task_complete(request, pk: int):
    task = _task(request, pk)
    form = CompleteForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, task, complete_form=form)
        return render(request, "routing/task_detail.html", context, status=400)
    completion = form.completion()
    return _act(
        request,
        task,
        lambda: services.task_complete(task=task, actor=request.user, completion=completion),
        f"Done: {Outcome(completion.outcome).label}.",
    )


@require_POST
@task_page
def task_take(request, pk: int):
    """A rep takes a task from the team queue; whoever took it first keeps it."""
    task = get_object_or_404(tasks_takeable_by(request.user), pk=pk)
    try:
        services.task_take(task=task, actor=request.user)
    except CueError as error:
        _refusal(request, error)
        return redirect("routing:tasks")  # someone else has it: back to what is left
    messages.success(request, "It's yours now.")
    return redirect("routing:task", pk=task.pk)


@require_POST
@task_page
def task_hand_back(request, pk: int):
    task = _task(request, pk)
    _act(
        request,
        task,
        lambda: services.task_hand_back(task=task, actor=request.user),
        "Handed back to the team queue.",
    )
    return redirect("routing:tasks")


@require_POST
@task_page
def task_reassign(request, pk: int):
    task = _task(request, pk)
    if not task_may_reassign(request.user, task):
        raise PermissionDenied
    form = ReassignForm(request.POST, task=task)
    if not form.is_valid():
        messages.error(request, "Choose a rep in the task's team.")
        return redirect("routing:task", pk=task.pk)
    to = form.cleaned_data["owner"]
    if not form.cleaned_data["confirm"]:  # nothing changes until the manager confirms
        context = {"task": task, "to": to, "new_count": new_task_count(request.user)}
        return render(request, "routing/reassign_confirm.html", context)
    return _act(
        request,
        task,
        lambda: services.task_reassign(task=task, actor=request.user, to=to),
        f"Reassigned to {to.display_name}.",
    )


@require_POST
@task_page
def task_reply(request, pk: int):
    task = _task(request, pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, task, reply_form=form)
        return render(request, "routing/task_detail.html", context, status=400)
    try:
        message = services.task_reply(
            task=task,
            actor=request.user,
            body=form.cleaned_data["body"],
            nonce=form.cleaned_data["nonce"],
        )
    except CueError as error:
        _refusal(request, error)
        return redirect("routing:task", pk=task.pk)
    _reply_outcome(request, message)
    return redirect("routing:task", pk=task.pk)


def _refusal(request, error: CueError) -> None:
    """The one place a domain error becomes a response: 403 when the user may not act on
    the task at all, else a message on the task page (the rest of the change rolled back)."""
    if isinstance(error, RoutingError) and error.code == "permission_denied":
        raise PermissionDenied(error.message) from error
    messages.error(request, error.message)


def _reply_outcome(request, message) -> None:
    if message.decision == Decision.ALLOW:
        messages.success(request, "Text queued.")
    elif message.decision == Decision.DEFER:
        messages.warning(request, f"Text deferred: {message.reason}")
    else:
        messages.error(request, f"Text not sent: {message.reason}")
