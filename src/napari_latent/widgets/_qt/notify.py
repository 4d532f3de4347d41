"""One way for a view to tell the user that something failed: a napari notification."""

from __future__ import annotations

__all__ = ["error_text", "notify_error"]

#: Exceptions whose message already says what is wrong (and names the file or subject).
_SELF_EXPLAINING = ("CohortError", "SchemaMismatchError", "FileNotFoundError", "FileExistsError", "KeyError")


def error_text(error: BaseException | str, prefix: str | None = None) -> str:
    """The text shown for ``error``: ``prefix: Type: message`` (the type left out where it says nothing).

    Parameters
    ----------
    error
        An exception, or a message that is shown as it is.
    prefix
        What was being done, e.g. ``"Interpolation failed"``.
    """
    if isinstance(error, BaseException):
        name = type(error).__name__
        explained = name in _SELF_EXPLAINING or isinstance(error, OSError)
        text = str(error) if explained else f"{name}: {error}"
    else:
        text = str(error)
    return f"{prefix}: {text}" if prefix else text


def notify_error(error: BaseException | str, prefix: str | None = None) -> str:
    """Show ``error`` as a napari error notification and return the text shown (:func:`error_text`)."""
    from napari.utils import notifications

    text = error_text(error, prefix)
    notifications.show_error(text)
    return text
