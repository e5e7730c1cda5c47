from rest_framework import serializers

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


class SizeSerializer(serializers.Serializer):
    encoding = serializers.ChoiceField(choices=["GSM-7", "UCS-2"])
    segments = serializers.IntegerField()
    characters = serializers.IntegerField()
    units_remaining = serializers.IntegerField()


class WorstCaseSerializer(SizeSerializer):
    tracked_link_length = serializers.IntegerField()


class TemplatePreviewSerializer(SizeSerializer):
    units_used = serializers.IntegerField()
    units_per_segment = serializers.IntegerField()
    non_gsm_characters = serializers.ListField(child=serializers.CharField())
    replacements = serializers.DictField(child=serializers.CharField(allow_blank=True))
    replacement_helps = serializers.BooleanField()
    worst_case = WorstCaseSerializer()
    errors = serializers.ListField(child=serializers.CharField())
