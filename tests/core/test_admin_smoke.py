"""Every registered admin changelist and add page opens for the admin user."""

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


def registered_models():
    return sorted((model._meta.app_label, model._meta.model_name) for model in admin.site._registry)


@pytest.mark.parametrize(("app_label", "model_name"), registered_models())
def test_it_opens_the_changelist(admin_client, app_label, model_name):
    response = admin_client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize(("app_label", "model_name"), registered_models())
def test_it_opens_the_add_page_or_refuses_it_for_read_only_records(
    admin_client, app_label, model_name
):
    model_admin = admin.site._registry[_model(app_label, model_name)]
    response = admin_client.get(reverse(f"admin:{app_label}_{model_name}_add"))
    expected = 200 if model_admin.has_add_permission(_request_as_admin(admin_client)) else 403
    assert response.status_code == expected


def test_it_opens_the_dashboard(admin_client):
    assert admin_client.get(reverse("admin:index")).status_code == 200


def _model(app_label, model_name):
    from django.apps import apps

    return apps.get_model(app_label, model_name)


def _request_as_admin(client):
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(username="admin")
    return request
