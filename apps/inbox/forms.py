import secrets

from django import forms

from apps.accounts.models import Team, User
from apps.inbox.services import NOTE_MAX_CHARS, REPLY_MAX_CHARS


class ReplyForm(forms.Form):
    body = forms.CharField(
        max_length=REPLY_MAX_CHARS, widget=forms.Textarea({"rows": 3}), label="Reply"
    )
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=64)

    @classmethod
    def fresh(cls, **initial) -> "ReplyForm":
        return cls(initial={"nonce": secrets.token_urlsafe(16), **initial})


class NoteForm(forms.Form):
    note = forms.CharField(max_length=NOTE_MAX_CHARS, widget=forms.Textarea({"rows": 2}))


class AssignForm(forms.Form):
    """A manager's explicit choice: nothing is preselected, and the page asks to confirm."""

    to = forms.ChoiceField(label="Assign to")

    def __init__(self, *args, reps: list[User], teams: list[Team], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [
            ("", "Choose a rep or a team…"),
            *[(f"user:{rep.pk}", rep.display_name) for rep in reps],
            *[(f"team:{team.pk}", f"{team.name} queue") for team in teams],
        ]

    def target(self) -> tuple[str, int]:
        kind, _, pk = self.cleaned_data["to"].partition(":")
        return kind, int(pk)
