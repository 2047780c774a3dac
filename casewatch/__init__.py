"""casewatch: a keyboard-driven command center for support escalation leads."""

__version__ = "0.1.0"
