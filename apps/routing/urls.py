from django.contrib.auth.views import LogoutView
from django.urls import path, reverse_lazy

from apps.routing import views

app_name = "routing"

urlpatterns = [
    path("", views.task_list, name="tasks"),
    path("<int:pk>/", views.task_detail, name="task"),
    path("<int:pk>/start/", views.task_start, name="start"),
    path("<int:pk>/take/", views.task_take, name="take"),
    path("<int:pk>/complete/", views.task_complete, name="complete"),
    path("<int:pk>/hand-back/", views.task_hand_back, name="hand-back"),
    path("<int:pk>/reassign/", views.task_reassign, name="reassign"),
    path("<int:pk>/reply/", views.task_reply, name="reply"),
    path("sign-out/", LogoutView.as_view(next_page=reverse_lazy("routing:tasks")), name="logout"),
]
