"""Formats of the google family (see the package docstring)."""

from __future__ import annotations

from bounced.parse.formats.base import Registry

REGISTRY = Registry()
FORMATS = REGISTRY.formats
