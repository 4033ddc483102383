"""A batch's working copy of state documents, written back with compare-and-set.

A policy may touch the same document several times in one batch (three rate-limit replies for
the same IP and provider). It reads through `Working`, which starts from what the daemon loaded
and keeps every change in memory; `writes()` then yields one compare-and-set write per changed
document, quoting the version that was loaded. Decisions take their ids from `transition`, so
that they do not depend on which input happened to cross a threshold first.
"""

from __future__ import annotations

from typing import Any

import orjson

from bounced.engine import Loaded
from bounced.events import event_id
from bounced.store.ports import EntityWrite


class Working:
    """Documents of one batch, by (kind, key)."""

    __slots__ = ("_changed", "_docs", "_due", "_loaded")

    def __init__(self, loaded: Loaded) -> None:
        self._loaded = loaded
        self._docs: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._due: dict[tuple[str, str], int | None] = {}
        self._changed: set[tuple[str, str]] = set()

    def _slot(self, kind: str, key: str) -> tuple[str, str]:
        slot = (kind, key)
        if slot not in self._docs:
            stored = self._loaded.get(kind, key)
            self._docs[slot] = stored.data if stored is not None else None
            self._due[slot] = stored.due_at if stored is not None else None
        return slot

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        """The current document (a private copy that may be changed and then `put`)."""
        doc = self._docs[self._slot(kind, key)]
        # Documents are JSON: a round trip through orjson copies them an order of magnitude
        # faster than copy.deepcopy, and this is on the path of every signal.
        return orjson.loads(orjson.dumps(doc)) if doc is not None else None

    def put(self, kind: str, key: str, doc: dict[str, Any], due_at: int | None = None) -> None:
        """Replace a document (it will be written once, at the end of the batch)."""
        slot = self._slot(kind, key)
        self._docs[slot] = doc
        self._due[slot] = due_at
        self._changed.add(slot)

    def transition(self, kind: str, key: str, doc: dict[str, Any]) -> str:
        """Count a state change of a document and return the id of the event announcing it.

        The id is made of the document's key and its transition number, which the document
        carries (``seq``): the n-th transition of a subject has the same id whichever input
        caused it and however the inputs were batched, so a replay after a crash, which may
        interleave partitions differently, announces the same transitions with the same ids.
        """
        seq = int(doc.get("seq", 0)) + 1
        doc["seq"] = seq
        return event_id("transition", kind, key, seq)

    def writes(self) -> list[EntityWrite]:
        """One compare-and-set write per changed document."""
        out = []
        for kind, key in sorted(self._changed):
            doc = self._docs[(kind, key)]
            if doc is None:
                continue
            stored = self._loaded.get(kind, key)
            out.append(
                EntityWrite(
                    kind=kind,
                    key=key,
                    data=doc,
                    expected_version=stored.version if stored is not None else 0,
                    due_at=self._due[(kind, key)],
                )
            )
        return out
