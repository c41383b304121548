"""Resolve DATE mentions against the publication date.

(Baseline; the NLP engineer replaces this.)
"""

from __future__ import annotations

import datetime as dt

from geonews.models import DateMention, Mention


def resolve_dates(
    mentions: list[Mention], published: dt.date | None, *, text: str = ""
) -> list[DateMention]:
    return [DateMention(m.text, m.start, m.end, None, None) for m in mentions if m.label == "DATE"]
