"""The lab app's only page: it says where it runs."""
import platform
import socket

import django
from django.shortcuts import render


def index(request):
    # Inside a container the hostname is the container's short id, which
    # `docker ps` shows in its first column.
    context = {
        "hostname": socket.gethostname(),
        "python_version": platform.python_version(),
        "django_version": django.get_version(),
        "host": request.get_host(),
    }
    return render(request, "hello/index.html", context)
