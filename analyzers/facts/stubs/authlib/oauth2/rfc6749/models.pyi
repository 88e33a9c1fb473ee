"""Authlib 1.x: the OAuth 2.0 model interfaces (methods only, no columns)."""


class ClientMixin:
    pass


class AuthorizationCodeMixin:
    pass


class TokenMixin:
    pass
