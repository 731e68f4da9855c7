"""The domain's error classes: what a question got wrong, named by its field."""
from __future__ import annotations


class QuestionError(ValueError):
    """A question the domain cannot answer as asked: ``field`` names what is wrong.

    The API answers it with a 400 naming the field; a page shows the message.
    """

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class LimitError(QuestionError):
    """A question within the rules but beyond what one request may cost; ``limit`` and ``asked`` say by how much.

    The API answers it with a 422 naming the field, the limit and what was asked, before doing the work.
    """

    def __init__(self, field: str, message: str, limit: float, asked: float):
        super().__init__(field, message)
        self.limit = limit
        self.asked = asked


class AccessDenied(Exception):
    """The account may not do this; ``field`` names what was refused.

    The API answers 403 (never a hint of what lies in other areas); a page shows the message.
    """

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message
