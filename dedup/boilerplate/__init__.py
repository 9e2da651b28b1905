"""Boilerplate stripper: cut portal chrome around a news article in a plain-text page dump.

Public API: :func:`strip`, :func:`learn_templates`, :class:`Templates`, :func:`reconstruct`.
"""

from .strip import reconstruct, strip
from .templates import Templates, learn_templates

__all__ = ["strip", "learn_templates", "Templates", "reconstruct"]
