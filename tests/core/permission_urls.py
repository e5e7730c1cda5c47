"""Every URL the project serves, read from the URL resolver, and a real address for each.

A route is named by its full pattern text ("admin/contacts/contact/<path:object_id>/change/").
The admin's pages of one model are recognised by their suffix; anything else a ModelAdmin
adds with get_urls() is a custom page and needs its own row in the expectation table."""

from dataclasses import dataclass

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# The pages Django's ModelAdmin (and simple-history's) make for every registered model.
MODEL_PAGES = {
    "": "changelist",
    "add/": "add",
    "<path:object_id>/history/": "history",
    "<path:object_id>/delete/": "delete",
    "<path:object_id>/change/": "change",
    "<path:object_id>/": "redirect",
    "^([^/]+)/history/([^/]+)/$": "history_record",
}


@dataclass(frozen=True)
class Route:
    route: str  # the full pattern text: unique, and what the tables are keyed by
    name: str  # "namespace:name", or "" for an unnamed pattern


def all_routes() -> dict[str, Route]:
    found: dict[str, Route] = {}
    _walk(get_resolver(), "", "", found)
    return found


def _walk(resolver: URLResolver, prefix: str, namespace: str, found: dict) -> None:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            _walk(pattern, prefix + str(pattern.pattern), inner, found)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            found[route] = Route(route, f"{namespace}{pattern.name}" if pattern.name else "")


@dataclass(frozen=True)
class ModelPage:
    label: str  # "app_label.model_name"
    page: str  # a value of MODEL_PAGES


def model_pages() -> dict[str, ModelPage]:
    """The standard admin pages of every registered model, by route."""
    pages = {}
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = f"admin/{opts.app_label}/{opts.model_name}/"
        for pattern in model_admin.get_urls():
            suffix = str(pattern.pattern)
            if suffix in MODEL_PAGES:
                pages[base + suffix] = ModelPage(opts.label_lower, MODEL_PAGES[suffix])
    return pages


def model_page_url(page: ModelPage, obj) -> str:
    app_label, model_name = page.label.split(".")
    info = f"admin:{app_label}_{model_name}"
    pk = _admin_pk(page.label, obj)
    if page.page == "changelist":
        return reverse(f"{info}_changelist")
    if page.page == "add":
        return reverse(f"{info}_add")
    if page.page == "redirect":
        return f"/admin/{app_label}/{model_name}/{pk}/"
    if page.page == "history_record":
        return reverse(f"{info}_simple_history", args=[pk, obj.history.earliest().history_id])
    return reverse(f"{info}_{page.page}", args=[pk])


def _admin_pk(label: str, obj) -> int | str:
    # DRF's token admin addresses a token by its user's id; a CRM connection is named.
    if label == "authtoken.tokenproxy":
        return obj.user_id
    return obj.system if label == "crm.connection" else obj.pk


def autocomplete_urls() -> list[tuple[str, str]]:
    """(label, query string) for every autocomplete field of every registered admin."""
    found = []
    for model, model_admin in admin.site._registry.items():
        for field_name in model_admin.autocomplete_fields:
            opts = model._meta
            query = (
                f"app_label={opts.app_label}&model_name={opts.model_name}&field_name={field_name}"
            )
            found.append((f"{opts.label_lower}.{field_name}", query))
    return sorted(found)


def admin_app_labels() -> list[str]:
    return sorted({model._meta.app_label for model in admin.site._registry})


def content_type_url(obj) -> str:
    content_type = ContentType.objects.get_for_model(obj)
    return reverse("admin:view_on_site", args=[content_type.pk, obj.pk])
