"""Geo stage: recognise and resolve places.

(Baseline; the geo engineer replaces this with the gazetteer-backed resolver.)
"""

from __future__ import annotations

from geonews.models import Mention, Place


def load_gazetteer():
    return None


def geoparse(doc, mentions: list[Mention], *, gazetteer, explain: bool = False) -> list[Place]:
    return []
