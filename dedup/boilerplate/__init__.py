"""Boilerplate stripper: cut portal chrome around a news article in a plain-text page dump.

Public API: :func:`strip`, :func:`strip_many`, :func:`learn_templates`, :class:`Templates`, :func:`reconstruct`.
"""

from .strip import reconstruct, strip, strip_many
from .templates import Templates, learn_templates

__all__ = ["strip", "strip_many", "learn_templates", "Templates", "reconstruct"]
