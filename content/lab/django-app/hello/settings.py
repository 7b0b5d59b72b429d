"""Settings of the workshop lab app.

Everything that differs between a laptop and a server comes from environment
variables, so the same image runs everywhere:

  DJANGO_ALLOWED_HOSTS  comma-separated host names or IP addresses the app
                        answers to (default "localhost,127.0.0.1"). Reaching
                        the app by any other name, such as your EC2 instance's
                        public IP, gives "Bad Request (400)" until you add it:
                        docker run -e DJANGO_ALLOWED_HOSTS=<host_ip> ...
  DJANGO_DEBUG          "1" or "true" turns on debug pages (default off).
  DJANGO_SECRET_KEY     the key Django signs cookies with.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# A development default so the lab runs without configuration. It is public
# (it is in this file), so a real deployment must set DJANGO_SECRET_KEY.
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "insecure-workshop-lab-key-change-me-for-any-real-deployment"
)

DEBUG = os.environ.get("DJANGO_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")
    if h.strip()
]

# The app has one page and stores nothing: no database, no migrations.
INSTALLED_APPS = []
DATABASES = {}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hello.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "hello" / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"context_processors": []},
    },
]

WSGI_APPLICATION = "hello.wsgi.application"
ASGI_APPLICATION = "hello.asgi.application"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}
