"""The one helper that moves an object through its lifecycle table and audits the move."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from grants.core.errors import TransitionNotAllowed
from grants.core.types import utcnow


def apply_transition(
    obj,
    new_state: enum.Enum,
    allowed: Mapping[enum.Enum, frozenset[enum.Enum]],
    *,
    actor,
    action: str,
    details: dict | None = None,
    state_attr: str = "status",
) -> None:
    """Move ``obj`` to ``new_state`` if ``allowed`` permits it.

    Side effects: sets ``obj.<state_attr>``, sets ``obj.<new_state>_at`` when the model has
    such a column, and records an audit event ``action`` with the old and new states.
    Raises TransitionNotAllowed (nothing changed) when the table does not allow the move.
    """
    from grants.audit.services import record_event

    old_state = getattr(obj, state_attr)
    # A state that starts unset (a payment's hold) is None in the table and "none" in words.
    old_value = old_state.value if old_state is not None else None
    if new_state not in allowed.get(old_state, frozenset()):
        raise TransitionNotAllowed(
            f"This {type(obj).__name__.lower()} is {(old_value or 'none').replace('_', ' ')}; "
            f"it cannot become {new_state.value.replace('_', ' ')}."
        )
    setattr(obj, state_attr, new_state)
    stamp = f"{new_state.value}_at"
    if hasattr(type(obj), stamp):
        setattr(obj, stamp, utcnow())
    record_event(
        action,
        actor=actor,
        target=obj,
        details={"from": old_value, "to": new_state.value, **(details or {})},
    )
