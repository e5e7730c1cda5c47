from django.urls import path

from apps.segment_intake.views import segment_call

CALLS = "batch|identify|track|page|screen|group|alias"

urlpatterns = [
    path(f"v1/{call}", segment_call, {"call": call}, name=f"segment-{call}")
    for call in CALLS.split("|")
]
