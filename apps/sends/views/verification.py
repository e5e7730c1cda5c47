"""The page where a staff user proves their phone is theirs: Cue texts a code through the
normal send pipeline, and the user types it back."""

from django import forms
from django.contrib import admin, messages
from django.core.validators import RegexValidator
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme

from apps.accounts.services import AccountsError, phone_verification_confirm
from apps.sends.errors import SendsError
from apps.sends.models import MessageStatus
from apps.sends.services.self_sends import phone_verification_send


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=6,
        validators=[RegexValidator(r"^\d{6}$", "The code is 6 digits.")],
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "size": 8}
        ),
    )


def phone_verify_view(request):
    if request.method == "POST" and request.POST.get("action") == "start":
        return _start(request)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            user = phone_verification_confirm(user=request.user, code=form.cleaned_data["code"])
        except AccountsError as error:
            form.add_error("code", error.message)
        else:
            messages.success(request, f"Your phone {user.phone} is verified.")
            return HttpResponseRedirect(_next_url(request) or request.path)
    return _page(request, form)


def _start(request):
    try:
        _, message = phone_verification_send(user=request.user)
    except (AccountsError, SendsError) as error:
        messages.error(request, error.message)
    else:
        if message.status in (MessageStatus.SUPPRESSED, MessageStatus.CANCELED):
            messages.warning(request, f"The code could not be texted: {message.reason}")
        else:
            messages.success(
                request, f"We texted a code to {message.to_address}. It expires in 10 minutes."
            )
    return HttpResponseRedirect(request.get_full_path())


def _next_url(request) -> str:
    url = request.POST.get("next") or request.GET.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if safe else ""


def _page(request, form: CodeForm):
    user = request.user
    context = {
        **admin.site.each_context(request),
        "title": "Verify your phone",
        "phone": user.phone,
        "phone_verified_at": user.phone_verified_at if user.phone_is_verified else None,
        "form": form,
        "next": _next_url(request),
    }
    return TemplateResponse(request, "admin/sends/verify_phone.html", context)
