"""The send configuration people change: frequency caps, custom keywords, senders and their
pools. Only roles holding the change permission (Admin) may edit them; every change is kept
in history, and each is read at its next use (no restart)."""

from django import forms
from django.contrib import admin

from apps.contacts.errors import ContactsError
from apps.contacts.regions import region_normalize
from apps.core.admin import HistoryAdmin
from apps.sends.keywords import STANDARD_KEYWORDS, custom_keyword_check
from apps.sends.models import FrequencyCap, KeywordRule, Sender, SenderPool


class FrequencyCapForm(forms.ModelForm):
    class Meta:
        model = FrequencyCap
        fields = [
            "name", "channel", "category", "window_hours", "max_messages", "region", "is_active",
        ]  # fmt: skip

    def clean_region(self) -> str:
        """Contacts' regions are postal codes: a cap "in Florida" must say FL to reach them."""
        try:
            return region_normalize(self.cleaned_data["region"], None)
        except ContactsError as error:
            raise forms.ValidationError(error.message) from error


@admin.register(FrequencyCap)
class FrequencyCapAdmin(HistoryAdmin):
    form = FrequencyCapForm
    list_display = [
        "name", "channel", "category", "max_messages", "window_hours", "region", "is_active",
    ]  # fmt: skip
    list_filter = ["channel", "category", "region", "is_active"]
    search_fields = ["name"]


class KeywordRuleForm(forms.ModelForm):
    class Meta:
        model = KeywordRule
        fields = ["keyword", "kind", "reply", "sender", "program", "is_active"]

    def clean_keyword(self) -> str:
        keyword = self.cleaned_data["keyword"].strip()
        if keyword.lower() in STANDARD_KEYWORDS:
            raise forms.ValidationError(
                f"{keyword.upper()} is a carrier-standard keyword; Cue already handles it."
            )
        return keyword

    def clean(self) -> dict:
        """What the inbound classifier would refuse is refused here, before it is stored:
        "STPO" as an opt-in would otherwise turn a misspelt STOP into a subscription."""
        cleaned = super().clean()
        keyword, kind = cleaned.get("keyword"), cleaned.get("kind")
        if keyword and kind and kind != KeywordRule.Kind.REPLY:
            try:
                custom_keyword_check(keyword, kind)
            except ValueError as error:
                self.add_error("keyword", str(error))
        return cleaned


@admin.register(KeywordRule)
class KeywordRuleAdmin(HistoryAdmin):
    form = KeywordRuleForm
    list_display = ["keyword", "kind", "reply", "sender", "program", "is_active"]
    list_filter = ["kind", "is_active", "program"]
    list_select_related = ["sender", "program"]
    search_fields = ["keyword"]


@admin.register(Sender)
class SenderAdmin(HistoryAdmin):
    list_display = [
        "name", "kind", "address", "registration", "mps", "program", "is_default", "is_active",
    ]  # fmt: skip
    list_filter = ["kind", "registration", "is_active", "program"]
    list_select_related = ["program"]
    search_fields = ["name", "address"]


@admin.register(SenderPool)
class SenderPoolAdmin(HistoryAdmin):
    list_display = ["name"]
    search_fields = ["name"]
