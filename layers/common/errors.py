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
