"""Flask-Login 0.6: its user mixins hold methods and properties, no columns."""


class UserMixin:
    pass


class AnonymousUserMixin:
    pass
