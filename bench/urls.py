"""The app's URLs plus an empty view: the baseline for webhook response times."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns


def empty(request):
    return HttpResponse("")


urlpatterns = [path("bench/empty/", empty), *app_urlpatterns]
