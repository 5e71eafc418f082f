"""Objects whose background thread a fork must wait for, and which a forked child resets.

A thread does not survive ``fork``: the child has only the thread that forked, but inherits
every lock as it was. An object whose thread may be inside a critical section (SQLite, a
file being made) registers here with the lock that section holds; a fork then waits until
no such thread is inside, and the child resets the object to a fresh, threadless state.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["ForkGuard"]

T = TypeVar("T")


class ForkGuard(Generic[T]):
    """The fork hooks for every live object of one kind.

    Args:
        lock_of: The lock an object's thread holds while a fork must not happen.
        reset_in_child: Called in the child for each object, with its inherited locks in
            whatever state they were (it must replace them, never release or take them).
    """

    def __init__(
        self,
        lock_of: Callable[[T], threading.Lock],
        reset_in_child: Callable[[T], None],
    ) -> None:
        self._lock_of = lock_of
        self._reset_in_child = reset_in_child
        self._live: weakref.WeakSet[T] = weakref.WeakSet()
        self._held: list[T] = []
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(
                before=self._before,
                after_in_parent=self._after_in_parent,
                after_in_child=self._after_in_child,
            )

    def add(self, item: T) -> None:
        """Guard forks for ``item`` as long as it lives."""
        self._live.add(item)

    def _before(self) -> None:
        self._held[:] = list(self._live)
        for item in self._held:
            self._lock_of(item).acquire()

    def _after_in_parent(self) -> None:
        for item in self._held:
            self._lock_of(item).release()
        self._held.clear()

    def _after_in_child(self) -> None:
        for item in self._held:
            self._reset_in_child(item)
        self._held.clear()
