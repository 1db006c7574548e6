"""WSGI entry point, used by ``triangulum serve``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triangulum.settings")
application = get_wsgi_application()
