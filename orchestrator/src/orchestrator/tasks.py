"""Imports every module that declares job blueprints, so workers know every task."""

from __future__ import annotations
