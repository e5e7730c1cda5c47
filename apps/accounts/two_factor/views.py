"""The second-factor pages at /account/two-factor/: status, setup, the code after sign-in."""

from base64 import b32encode

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.accounts.two_factor import services
from apps.accounts.two_factor.selectors import (
    recovery_device,
    totp_device_confirmed,
    two_factor_required,
)


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label="Code",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


def _next_url(request) -> str:
    asked = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        asked, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return asked if safe and asked else "/admin/" if request.user.is_staff else "/tasks/"


@login_required
def two_factor_status(request):
    user = request.user
    context = {
        "has_authenticator": totp_device_confirmed(user) is not None,
        "recovery_left": _recovery_left(user),
        "required": two_factor_required(user),
    }
    return render(request, "accounts/two_factor/status.html", context)


def _recovery_left(user) -> int:
    device = recovery_device(user)
    return device.token_set.count() if device else 0


@login_required
def two_factor_setup(request):
    """Scan the QR code (or type the secret), then enter a code the app shows. Replacing an
    authenticator takes a session that proved the old one: a password alone never does."""
    if totp_device_confirmed(request.user) and not request.user.is_verified():
        return redirect("two_factor:verify")
    device = services.totp_device_pending(user=request.user)
    form = CodeForm(request.POST or None)
    if form.is_valid():
        codes = services.totp_device_confirm(request=request, code=form.cleaned_data["code"])
        if codes is not None:
            context = {"codes": codes, "next": _next_url(request)}
            return render(request, "accounts/two_factor/recovery_codes.html", context)
        form.add_error("code", "That code is not the one your app shows now. Try the next one.")
    context = {
        "form": form,
        "qr_svg": _qr_svg(device.config_url),
        "secret": _base32(device.bin_key),
        "next": request.GET.get("next", ""),
        "required": two_factor_required(request.user),
    }
    return render(request, "accounts/two_factor/setup.html", context)


@login_required
def two_factor_verify(request):
    """The code after the password, from the authenticator app or a recovery code."""
    if totp_device_confirmed(request.user) is None:
        return redirect("two_factor:setup")
    form = CodeForm(request.POST or None)
    if form.is_valid():
        if services.two_factor_verify(request=request, code=form.cleaned_data["code"]):
            return redirect(_next_url(request))
        form.add_error("code", "Wrong or expired code. Enter the one your app shows now.")
    context = {"form": form, "next": request.GET.get("next", "")}
    return render(request, "accounts/two_factor/verify.html", context)


@require_POST
@login_required
def recovery_codes_renew(request):
    if not request.user.is_verified():
        return redirect("two_factor:verify")
    codes = services.recovery_codes_renew(user=request.user)
    context = {"codes": codes, "next": _next_url(request)}
    return render(request, "accounts/two_factor/recovery_codes.html", context)


@require_POST
@login_required
def two_factor_remove(request):
    """Only a user whose role does not require it, after proving it this session."""
    if two_factor_required(request.user) or not request.user.is_verified():
        return redirect("two_factor:status")
    services.two_factor_remove(user=request.user)
    return redirect("two_factor:status")


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    return svg[svg.index("<svg") :]  # inline in the page: no XML declaration


def _base32(key: bytes) -> str:
    return b32encode(key).decode().rstrip("=")
