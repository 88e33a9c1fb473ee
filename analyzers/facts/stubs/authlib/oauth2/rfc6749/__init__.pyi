"""Authlib 1.x: the OAuth 2.0 model interfaces (methods only, no columns)."""
from authlib.oauth2.rfc6749.models import AuthorizationCodeMixin, ClientMixin, TokenMixin
