"""Entity management: merge two entities, rename one, split an alias off into its own.

    curation.merge(store, "PERSON:putin", "PERSON:vladimir putin")
    curation.rename(store, "ORG:idf", "Israel Defense Forces")
    new_id = curation.split_alias(store, "PLACE:georgia", "Georgia")   # -> "PLACE:georgia~2"

Every operation is a row of the ``entity_curation`` table (in order, ``seq``) and is
applied to the stored mentions at once, so every query (``geonews.analysis``)
sees it with no extra join. ``Store.add_many`` calls :func:`apply` for the
articles it writes, which replays the whole log on them: curation survives
re-ingest, re-analysis and new articles.

- merge: the source's mentions become the target's; the source entity is gone.
- rename: the entity's display name (``entities.name`` and its mentions' ``entity``).
- split: the entity's mentions whose text is the alias (any case, spacing, "the")
  become a new entity named after the alias, with the same label.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from geonews.errors import InputError, StoreError

OPS = ("merge", "rename", "split")
MAX_NAME = 200


def alias_key(text: str) -> str:
    """How a mention's text is compared with an alias: case, spacing and "the" folded."""
    key = " ".join(text.casefold().replace("\u2019", "'").split())
    if key.startswith("the "):
        key = key[4:]
    return key.strip(" .,'\"")


# -- applying the log --------------------------------------------------------------


def _scope(article_ids: list[str] | None) -> tuple[str, list]:
    if article_ids is None:
        return "TRUE", []
    return "list_contains(?, article_id)", [list(article_ids)]


def _alias_texts(cur, entity_id: str, alias: str, scope: str, params: list) -> list[str]:
    texts = cur.execute(
        f"SELECT DISTINCT text FROM mentions WHERE entity_id = ? AND {scope}",
        [entity_id, *params],
    ).fetchall()
    return [t for (t,) in texts if alias_key(t) == alias]


def _apply_rule(cur, rule: tuple, scope: str, params: list) -> None:
    _seq, op, eid, target, name, label, alias = rule
    if op == "merge":
        cur.execute("INSERT OR IGNORE INTO entities VALUES (?, ?, ?)", [target, name, label])
        cur.execute(
            f"UPDATE mentions SET entity_id = ? WHERE entity_id = ? AND {scope}",
            [target, eid, *params],
        )
    elif op == "rename":
        cur.execute("UPDATE entities SET name = ? WHERE id = ?", [name, eid])
    elif op == "split":
        texts = _alias_texts(cur, eid, alias, scope, params)
        if texts:
            cur.execute("INSERT OR IGNORE INTO entities VALUES (?, ?, ?)", [target, name, label])
            cur.execute(
                f"UPDATE mentions SET entity_id = ? WHERE entity_id = ? "
                f"AND list_contains(?, text) AND {scope}",
                [target, eid, texts, *params],
            )


def _finish(cur, rules: list[tuple], scope: str, params: list) -> None:
    """Drop the entities curation emptied; give the curated entities' mentions their name."""
    emptied = sorted({r[2] for r in rules if r[1] in ("merge", "split")})
    if emptied:
        cur.execute(
            "DELETE FROM entities WHERE list_contains(?, id) AND id NOT IN "
            "(SELECT entity_id FROM mentions WHERE list_contains(?, entity_id))",
            [emptied, emptied],
        )
    curated = sorted({r[3] if r[1] in ("merge", "split") else r[2] for r in rules})
    cur.execute(
        f"UPDATE mentions SET entity = e.name FROM entities e "
        f"WHERE mentions.entity_id = e.id AND list_contains(?, e.id) "
        f"AND mentions.entity IS DISTINCT FROM e.name AND {scope}",
        [curated, *params],
    )


def _rules(cur) -> list[tuple]:
    return cur.execute(
        "SELECT seq, op, entity_id, target_id, name, label, alias FROM entity_curation ORDER BY seq"
    ).fetchall()


def apply(cur, article_ids: list[str] | None = None) -> None:
    """Replay the whole curation log on the mentions of ``article_ids`` (None: all).

    Runs inside the caller's transaction (``Store.add_many`` calls it); set-based,
    one statement or two per curation step.
    """
    rules = _rules(cur)
    if not rules:
        return
    scope, params = _scope(article_ids)
    for rule in rules:
        _apply_rule(cur, rule, scope, params)
    _finish(cur, rules, scope, params)


# -- the operations ----------------------------------------------------------------


def _entity(cur, entity_id: str) -> tuple[str, str, str]:
    row = cur.execute("SELECT id, name, label FROM entities WHERE id = ?", [entity_id]).fetchone()
    if row is None:
        raise InputError(f"No stored entity {entity_id!r}.")
    return row


def _record(store, make_rule) -> tuple:
    """Add one step to the log and apply it to the whole corpus, in one transaction."""
    if store.read_only:
        raise StoreError("The store is open read-only.")
    with store._lock:
        cur = store.cursor()
        try:
            cur.execute("BEGIN TRANSACTION")
            op, eid, target, name, label, alias = make_rule(cur)
            seq = cur.execute("SELECT coalesce(max(seq), 0) + 1 FROM entity_curation").fetchone()[0]
            rule = (seq, op, eid, target, name, label, alias)
            cur.execute(
                "INSERT INTO entity_curation (seq, op, entity_id, target_id, name, label, alias) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                list(rule),
            )
            _apply_rule(cur, rule, "TRUE", [])
            _finish(cur, [rule], "TRUE", [])
            cur.execute("COMMIT")
            return rule
        except BaseException as exc:
            try:
                cur.execute("ROLLBACK")
            except duckdb.Error:
                pass
            if isinstance(exc, duckdb.Error):
                raise StoreError(f"Could not save the change: {exc}") from exc
            raise
        finally:
            cur.close()


def merge(store, source_id: str, target_id: str) -> int:
    """Make ``source_id`` one with ``target_id``: its mentions become the target's.

    Returns how many mentions moved. Raises InputError for an unknown entity or
    merging an entity into itself.
    """
    if source_id == target_id:
        raise InputError("Cannot merge an entity into itself.")
    moved = []

    def rule(cur):
        _entity(cur, source_id)
        _tid, name, label = _entity(cur, target_id)
        moved.append(
            cur.execute(
                "SELECT count(*) FROM mentions WHERE entity_id = ?", [source_id]
            ).fetchone()[0]
        )
        return "merge", source_id, target_id, name, label, None

    _record(store, rule)
    return int(moved[0])


def rename(store, entity_id: str, new_name: str) -> None:
    """Show ``entity_id`` as ``new_name`` everywhere (filters use the new name)."""
    new_name = " ".join((new_name or "").split())
    if not new_name:
        raise InputError("Give the entity a name.")
    if len(new_name) > MAX_NAME:
        raise InputError(f"A name has at most {MAX_NAME} characters.")

    def rule(cur):
        _eid, _name, label = _entity(cur, entity_id)
        return "rename", entity_id, None, new_name, label, None

    _record(store, rule)


def split_alias(store, entity_id: str, alias_text: str) -> str:
    """Move the mentions of ``entity_id`` written ``alias_text`` to a new entity; its id.

    The new entity is named ``alias_text`` and keeps the label. Raises InputError
    when no mention of the entity is written so, or when that is all of them
    (rename it instead).
    """
    alias_text = " ".join((alias_text or "").split())
    key = alias_key(alias_text)
    if not key:
        raise InputError("Give the alias to split off.")

    def rule(cur):
        _eid, _name, label = _entity(cur, entity_id)
        texts = _alias_texts(cur, entity_id, key, "TRUE", [])
        if not texts:
            raise InputError(f"No mention of {entity_id!r} is written {alias_text!r}.")
        others = cur.execute(
            "SELECT count(*) FROM mentions WHERE entity_id = ? AND NOT list_contains(?, text)",
            [entity_id, texts],
        ).fetchone()[0]
        if not others:
            raise InputError(
                f"Every mention of {entity_id!r} is written {alias_text!r}: rename it instead."
            )
        base = f"{label}:{key}"
        taken = {
            r[0]
            for r in cur.execute(
                "SELECT id FROM entities WHERE id = ? OR starts_with(id, ?) "
                "UNION SELECT target_id FROM entity_curation WHERE target_id IS NOT NULL",
                [base, base + "~"],
            ).fetchall()
        }
        new_id, n = base, 1
        while new_id in taken:
            n += 1
            new_id = f"{base}~{n}"
        return "split", entity_id, new_id, alias_text, label, key

    return _record(store, rule)[3]


# -- reading -----------------------------------------------------------------------


def history(store) -> pd.DataFrame:
    """The curation log, oldest first: seq, op, entity_id, target_id, name, label, alias,
    created_at."""
    return store.query("SELECT * FROM entity_curation ORDER BY seq")


def aliases(store, entity_id: str) -> pd.DataFrame:
    """How an entity is written in the corpus: text, mentions (most frequent first)."""
    return store.query(
        "SELECT text, count(*) AS mentions FROM mentions WHERE entity_id = ? "
        "GROUP BY text ORDER BY mentions DESC, text",
        [entity_id],
    )
