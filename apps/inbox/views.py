"""/inbox/: every conversation nobody else owns, server-rendered for a desk and a phone.

A conversation the user may not see is a 404 (not a 403 that would confirm it exists); one
they may read but not work (Compliance) refuses actions with 403. Each action is a POST
with CSRF that calls one service; an InboxError becomes a message on the page."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.models import Team, User
from apps.inbox import services
from apps.inbox.errors import InboxError
from apps.inbox.forms import AssignForm, NoteForm, ReplyForm
from apps.inbox.models import SavedReply
from apps.inbox.selectors import (
    VIEWS,
    contact_facts,
    conversation_thread,
    conversations_in_view,
    conversations_visible_to,
    inbox_counts,
    outbound_state,
)
from apps.sends.models import Decision

PAGE_SIZE = 50


def inbox_page(view):
    @login_required
    @wraps(view)
    def checked(request, *args, **kwargs):
        if not request.user.has_perm("inbox.view_conversation"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return checked


def inbox_action(view):
    """A POST by someone who may answer conversations, on one they can see."""

    @require_POST
    @inbox_page
    @wraps(view)
    def checked(request, pk: int):
        conversation = get_object_or_404(conversations_visible_to(request.user), pk=pk)
        if not request.user.has_perm("inbox.work_conversation"):
            raise PermissionDenied
        try:
            view(request, conversation)
        except InboxError as error:
            messages.error(request, error.message)
        return redirect("inbox:conversation", pk=pk)

    return checked


@require_GET
@inbox_page
def inbox_list(request):
    view = request.GET.get("view", "mine" if request.user.team_id else "all")
    view = view if view in VIEWS else "all"
    waiting_first = request.GET.get("sort") != "recent"
    rows = conversations_in_view(request.user, view, waiting_first=waiting_first)[:PAGE_SIZE]
    counts = inbox_counts(request.user, timezone.now())
    context = {
        "conversations": list(rows),
        "view": view,
        "tabs": [(key, label, counts[key]) for key, label in VIEWS.items()],
        "waiting_first": waiting_first,
        "counts": counts,
        "now": timezone.now(),
    }
    return render(request, "inbox/list.html", context)


@require_GET
@inbox_page
def inbox_counts_json(request):
    """Polled by the list page, so the tabs' numbers move without a reload."""
    return JsonResponse(inbox_counts(request.user, timezone.now()))


@require_GET
@inbox_page
def conversation_detail(request, pk: int):
    user = request.user
    conversation = get_object_or_404(conversations_visible_to(user), pk=pk)
    services.conversation_open(conversation=conversation, actor=user)
    now = timezone.now()
    context = {
        "conversation": conversation,
        "thread": conversation_thread(conversation),
        "facts": contact_facts(conversation, now),
        "may_work": user.has_perm("inbox.work_conversation"),
        "may_assign": user.has_perm("inbox.assign_conversation"),
        "reply_form": ReplyForm.fresh(),
        "note_form": NoteForm(),
        "assign_form": _assign_form(user),
        "saved_replies": [
            (reply, services.saved_reply_render(reply=reply, contact=conversation.contact))
            for reply in SavedReply.objects.all()
        ],
        "now": now,
    }
    return render(request, "inbox/detail.html", context)


def _assign_form(user: User, data=None) -> AssignForm:
    """A manager assigns within the teams they manage; whoever reads every conversation
    (an admin) within every team."""
    every = user.has_perm("inbox.view_all_conversations")
    teams = list(Team.objects.all() if every else Team.objects.filter(manager=user))
    reps = User.objects.filter(team__in=teams, is_active=True).order_by("first_name", "username")
    return AssignForm(data, reps=list(reps), teams=teams)


@inbox_action
def conversation_reply(request, conversation):
    form = ReplyForm(request.POST)
    if not form.is_valid():
        raise InboxError(" ".join(e for errors in form.errors.values() for e in errors))
    message = services.conversation_reply(
        conversation=conversation,
        actor=request.user,
        body=form.cleaned_data["body"],
        nonce=form.cleaned_data["nonce"],
    )
    if message.decision == Decision.ALLOW:
        messages.success(request, "Sent.")
    else:
        messages.warning(request, f"Not sent now. {outbound_state(message)}")


@inbox_action
def conversation_take(request, conversation):
    services.conversation_take(conversation=conversation, actor=request.user)
    messages.success(request, "It's yours.")


@inbox_action
def conversation_assign(request, conversation):
    if not request.user.has_perm("inbox.assign_conversation"):
        raise PermissionDenied
    form = _assign_form(request.user, request.POST)
    if not form.is_valid():
        raise InboxError("Choose a rep or a team from the list.")
    kind, pk = form.target()
    to_user = User.objects.filter(pk=pk).first() if kind == "user" else None
    to_team = Team.objects.filter(pk=pk).first() if kind == "team" else None
    services.conversation_assign(
        conversation=conversation, actor=request.user, to_user=to_user, to_team=to_team
    )
    messages.success(request, f"Assigned to {to_user.display_name if to_user else to_team}.")


@inbox_action
def conversation_close(request, conversation):
    services.conversation_close(conversation=conversation, actor=request.user)
    messages.success(request, "Closed. A new text opens it again.")


@inbox_action
def conversation_reopen(request, conversation):
    services.conversation_reopen(conversation=conversation, actor=request.user)


@inbox_action
def conversation_note(request, conversation):
    form = NoteForm(request.POST)
    if not form.is_valid():
        raise InboxError("Write a note of 1–2000 characters.")
    services.note_add(conversation=conversation, actor=request.user, body=form.cleaned_data["note"])
