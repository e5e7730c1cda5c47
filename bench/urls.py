"""The app's URLs plus an empty view: the baseline for webhook response times."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as app_urlpatterns


@csrf_exempt  # it takes the webhook's own POST, as the webhook does
def empty(request):
    return HttpResponse("")


urlpatterns = [path("bench/empty/", empty), *app_urlpatterns]
