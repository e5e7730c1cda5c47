from django import forms

from apps.core.text import StorableJSONField
from apps.library.checks import content_errors
from apps.library.models import MessageTemplate, TemplateVersion
from apps.library.selectors import working_version

CONTENT_FIELDS = ("body", "html", "subject", "links", "defaults")


class JSONObjectField(StorableJSONField):
    """A JSON object; empty input means {}."""

    def to_python(self, value):
        value = super().to_python(value)
        return {} if value in (None, "") else value


class MessageTemplateForm(forms.ModelForm):
    """The template's own fields plus the text of its working version. The text is saved
    through the services: into the open draft, or into a new draft when the approved text
    was edited."""

    body = forms.CharField(
        required=False,  # an email's text part may be left blank: derived from the HTML
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80, "class": "cue-template-body"}),
        help_text='Placeholders: {{ contact.first_name | "there" }}; tracked links: {link:book}. '
        "For an email this is the text part: leave it blank to derive it from the HTML.",
    )
    html = forms.CharField(
        required=False,
        strip=False,
        label="HTML",
        widget=forms.Textarea(attrs={"rows": 14, "cols": 80, "class": "cue-template-html"}),
        # The admin shows help text as HTML: the tag is written escaped.
        help_text="Email only. Paragraphs, headings, lists, links, images, simple tables, and "
        "a &lt;style&gt; block (inlined when sent). Scripts, event handlers and javascript: links "
        "are removed when saved. A marketing email needs the brand's name, its postal "
        "address and {link:unsubscribe} in both the HTML and the text.",
    )
    subject = forms.CharField(required=False, max_length=200, help_text="Email only.")
    links = JSONObjectField(
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text='Tracked links: {"book": {"url": "https://example.com/book", "key": true}}. '
        "key: true marks a high-intent link that creates a follow-up for the contact's owner.",
    )
    defaults = JSONObjectField(
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text='Used when a value is missing: {"contact.first_name": "there"}.',
    )

    # Set per request by the admin: False shows the text read-only (submitted, rejected,
    # or a user who may not edit).
    text_editable = True

    class Meta:
        model = MessageTemplate
        fields = ["name", "channel", "purpose", "category", "owner", "tags"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.working: TemplateVersion | None = (
            working_version(self.instance) if self.instance.pk else None
        )
        if self.working is not None:
            for name in CONTENT_FIELDS:
                self.initial.setdefault(name, getattr(self.working, name))
        if not self.text_editable:
            for name in CONTENT_FIELDS:
                self.fields[name].disabled = True

    def clean(self):
        cleaned = super().clean()
        channel = self.instance.channel if self.instance.pk else cleaned.get("channel")
        errors = content_errors(
            channel=channel,
            body=cleaned.get("body", ""),
            subject=cleaned.get("subject", ""),
            html=cleaned.get("html", ""),
            links=cleaned.get("links", {}),
            defaults=cleaned.get("defaults", {}),
        )
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field, message)
        return cleaned

    def content(self) -> dict:
        return {name: self.cleaned_data[name] for name in CONTENT_FIELDS}
