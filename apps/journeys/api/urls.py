from django.urls import path

from apps.journeys.api import journeys as views

urlpatterns = [
    path("journeys/", views.JourneysView.as_view(), name="journeys"),
    path("journeys/<int:pk>/", views.JourneyView.as_view(), name="journey"),
    path("journeys/<int:pk>/draft/", views.JourneyDraftView.as_view(), name="journey-draft"),
    path("journeys/<int:pk>/pause/", views.JourneyPauseView.as_view(), name="journey-pause"),
    path("journeys/<int:pk>/resume/", views.JourneyResumeView.as_view(), name="journey-resume"),
    path("journeys/versions/<int:pk>/", views.VersionView.as_view(), name="journey-version"),
    path(
        "journeys/versions/<int:pk>/steps/",
        views.VersionStepsView.as_view(),
        name="journey-version-steps",
    ),
    path(
        "journeys/versions/<int:pk>/settings/",
        views.VersionSettingsView.as_view(),
        name="journey-version-settings",
    ),
    *(
        path(
            f"journeys/versions/<int:pk>/{action}/",
            view.as_view(),
            name=f"journey-version-{action}",
        )
        for action, view in (
            ("submit", views.VersionSubmitView),
            ("approve", views.VersionApproveView),
            ("reject", views.VersionRejectView),
            ("publish", views.VersionPublishView),
        )
    ),
]
