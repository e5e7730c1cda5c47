from django.urls import path

from apps.inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox_list, name="list"),
    path("counts/", views.inbox_counts_json, name="counts"),
    path("<int:pk>/", views.conversation_detail, name="conversation"),
    path("<int:pk>/reply/", views.conversation_reply, name="reply"),
    path("<int:pk>/take/", views.conversation_take, name="take"),
    path("<int:pk>/assign/", views.conversation_assign, name="assign"),
    path("<int:pk>/close/", views.conversation_close, name="close"),
    path("<int:pk>/reopen/", views.conversation_reopen, name="reopen"),
    path("<int:pk>/note/", views.conversation_note, name="note"),
]
