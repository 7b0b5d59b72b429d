"""URLs of the workshop lab app: one page."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
]
