"""What mmvitx logs, for tests."""
import contextlib
import logging

from mmengine.logging import MMLogger


@contextlib.contextmanager
def logged_warnings():
    """The messages logged at WARNING or above through mmengine's current logger, as a list
    filled while the block runs (MMLogger calls its own handlers only, so pytest's caplog does
    not see them)."""
    messages = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
