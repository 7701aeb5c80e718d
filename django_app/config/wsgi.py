"""WSGI entry for Zappa (through ``django_settings``) and for tools that want a WSGI app."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.config.settings.local")
application = get_wsgi_application()
