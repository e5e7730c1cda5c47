from rest_framework import serializers

from apps.library.email_html import MAX_HTML_LENGTH
from apps.library.models import Category, Channel

MAX_BODY_LENGTH = 5000


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of turning them into text."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class TemplatePreviewInputSerializer(serializers.Serializer):
    body = StrictCharField(max_length=MAX_BODY_LENGTH, allow_blank=True, trim_whitespace=False)
    links = serializers.DictField(required=False, help_text="The version's declared links.")
    defaults = serializers.DictField(
        required=False, help_text='Defaults per placeholder, e.g. {"contact.first_name": "there"}.'
    )
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.SMS)
    category = serializers.ChoiceField(
        choices=Category.choices,
        required=False,
        help_text="With it the answer carries `lint`: what Submit would report for this text.",
    )
    subject = StrictCharField(max_length=200, required=False, default="", allow_blank=True)
    html = StrictCharField(
        max_length=MAX_HTML_LENGTH,
        required=False,
        default="",
        allow_blank=True,
        trim_whitespace=False,
        help_text="Email only: the HTML part; the answer carries `email`, the rendered preview.",
    )


class SizeSerializer(serializers.Serializer):
    encoding = serializers.ChoiceField(choices=["GSM-7", "UCS-2"])
    segments = serializers.IntegerField()
    characters = serializers.IntegerField(
        help_text='Characters as a person reads them: "€" and "👍🏽" count 1 each.'
    )
    units_used = serializers.IntegerField(
        help_text="What the text costs against the segment limits: GSM-7 septets (an "
        "extension character such as € costs 2) or UCS-2 code units."
    )
    units_remaining = serializers.IntegerField()


class WorstCaseSerializer(SizeSerializer):
    tracked_link_length = serializers.IntegerField()


class FindingSerializer(serializers.Serializer):
    rule = serializers.CharField()
    level = serializers.ChoiceField(choices=["error", "warning"])
    message = serializers.CharField()
    field = serializers.CharField()


class EmailPreviewSerializer(serializers.Serializer):
    html = serializers.CharField(help_text="Rendered for the sample contact, CSS inlined.")
    sanitised_html = serializers.CharField(help_text="The HTML as saving would store it.")
    text = serializers.CharField(help_text="The text part, rendered for the sample contact.")
    text_derived = serializers.BooleanField(help_text="True when derived from the HTML.")
    errors = serializers.ListField(child=serializers.CharField())


class TemplatePreviewSerializer(SizeSerializer):
    units_per_segment = serializers.IntegerField()
    non_gsm_characters = serializers.ListField(child=serializers.CharField())
    replacements = serializers.DictField(child=serializers.CharField(allow_blank=True))
    replacement_helps = serializers.BooleanField()
    worst_case = WorstCaseSerializer()
    errors = serializers.ListField(child=serializers.CharField())
    lint = FindingSerializer(
        many=True,
        allow_null=True,
        help_text="Null without a category; else the findings Submit would report (an error "
        "blocks it), placeholder errors alone while there are any.",
    )
    email = EmailPreviewSerializer(required=False, help_text="Email only.")
