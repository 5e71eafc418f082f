"""Local folders: the next blob's file is made ahead of time, on a background thread.

Creating a file is the slowest step of storing a small blob on some disks: it waits for the
filesystem's journal, and took from 80 µs to 700 µs on the machines Pinsphere is measured
on, as long as writing and flushing 100 KB. So a thread makes the file the next upload will
write, while the current one hashes, checks and records its bytes.

The files are anonymous (Linux's ``O_TMPFILE``): an inode in the staging folder's
filesystem with no name, given its key's name by a hard link at commit (through
``/proc/self/fd``, see :class:`~pinsphere.backends.fsspec.writers.AnonymousWriter`). A file
nobody names disappears when it is closed, so a crash or an unused file leaves nothing
behind, and a sweep of the staging folder cannot remove a file an upload is about to use.

Where anonymous files or their linking do not work (another system, an older kernel, a
filesystem without them, no ``/proc``), the thread finds out on its first attempt and stops;
writers then create named staged files themselves, as before. Other errors (a full disk, a
staging folder removed by hand) only skip a file: the next request tries again.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import threading
import weakref
from collections import deque
from contextlib import suppress

from pinsphere.backends.forks import ForkGuard

__all__ = ["FilesAhead", "anonymous_files_work", "link_anonymous"]

_log = logging.getLogger(__name__)

_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
_AHEAD = 1
"""How many files wait made ahead: one, since an upload takes one at a time."""
# What a system or filesystem without anonymous files (or without linking them) answers;
# any other error (a full disk, too many open files) may pass, and is tried again later.
_UNSUPPORTED = frozenset(
    {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.EPERM}
)


def _open_anonymous(folder: str) -> int:
    return os.open(folder, _O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o666)


def link_anonymous(fd: int, folder_fd: int, name: str) -> None:
    """Give an anonymous file the name ``name`` in the folder open as ``folder_fd``.

    Raises:
        FileExistsError: The name is taken (a hard link never replaces a file).
        OSError: As ``linkat``.
    """
    # linkat(AT_SYMLINK_FOLLOW) of /proc/self/fd/N links the file itself: the documented way
    # to name an O_TMPFILE file without privileges. A destination folder descriptor makes
    # os.link call linkat rather than link, which would link the /proc entry instead.
    os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=folder_fd, follow_symlinks=True)


def _probe(folder: str) -> None:
    """Make an anonymous file in ``folder``, link it under a name there, and remove it.

    Raises:
        OSError: A step failed.
    """
    fd = _open_anonymous(folder)
    try:
        folder_fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            probe = f".probe-{secrets.token_hex(8)}"
            link_anonymous(fd, folder_fd, probe)
            with suppress(FileNotFoundError):  # a sweep may have taken it already
                os.unlink(probe, dir_fd=folder_fd)
        finally:
            os.close(folder_fd)
    finally:
        os.close(fd)


def _unsupported(exc: OSError) -> bool:
    return exc.errno in _UNSUPPORTED


def _system_has_them() -> bool:
    """Whether this system has anonymous files and the ``/proc`` path that links them."""
    return bool(_O_TMPFILE) and os.path.isdir("/proc/self/fd")


def anonymous_files_work(folder: str) -> bool:
    """Whether anonymous files can be made in ``folder`` and linked there under a name."""
    if not _system_has_them():
        return False
    try:
        _probe(folder)
    except OSError:
        return False
    return True


class FilesAhead:
    """Keeps an anonymous file made ahead in a folder, for the next writer to take.

    The thread starts on the first :meth:`take` and holds no reference to this object, so a
    backend dropped without being closed is collected and its thread stops.

    Args:
        folder: Where the files' inodes live (the staging folder, on the store's filesystem).
    """

    def __init__(self, folder: str) -> None:
        self._folder = folder
        self._reset(_State())
        _forks.add(self)

    def _reset(self, state: _State) -> None:
        # Everything a forked child must not share with its parent.
        self._state = state
        self._finalizer = weakref.finalize(self, _stop, state)

    def take(self) -> int | None:
        """A file descriptor made ahead, open for writing, or ``None`` when none is ready
        (the caller makes its own file). Asks for the next one either way."""
        state = self._state
        with state.lock:
            # Under the lock: close() must never close a file a writer has taken.
            if state.stopped:
                return None
            fd = state.ready.popleft() if state.ready else None
        state.wanted.set()
        if state.thread is None:
            self._start(state)
        return fd

    def wait_ready(self, timeout: float) -> bool:
        """Wait until a file is ready, or the thread has stopped (for tests).

        Returns:
            Whether a file is ready.
        """
        state = self._state
        if state.thread is None and not state.stopped:
            state.wanted.set()
            self._start(state)
        with state.changed:
            state.changed.wait_for(lambda: bool(state.ready) or state.stopped, timeout)
            return bool(state.ready)

    @property
    def working(self) -> bool:
        """Whether files are (or will be) made ahead: ``False`` once closed, or once they
        proved not to work here."""
        return not self._state.stopped

    def close(self) -> None:
        """Stop the thread and close the files made ahead (they disappear: they have no name)."""
        self._finalizer()

    def _start(self, state: _State) -> None:
        with state.lock:
            if state.thread is not None or state.stopped:
                return
            thread = threading.Thread(
                target=_run, args=(self._folder, state), name="pinsphere-files-ahead", daemon=True
            )
            try:
                thread.start()
            except RuntimeError:  # no more threads: writers make their own files
                state.stopped = True
                return
            state.thread = thread


class _State:
    """What the thread and the writers share."""

    def __init__(self, *, stopped: bool = False) -> None:
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        # Held by the thread while a descriptor it opened is not yet in ``ready``: a fork
        # waits for it, so a child never inherits a file no list knows of.
        self.making = threading.Lock()
        self.ready: deque[int] = deque()
        self.wanted = threading.Event()
        self.thread: threading.Thread | None = None
        self.stopped = stopped
        self.checked = False


def _run(folder: str, state: _State) -> None:
    if not _system_has_them():
        _stop(state)
        return
    while True:
        state.wanted.wait()
        state.wanted.clear()
        while True:
            with state.lock:
                if state.stopped:
                    return
                if len(state.ready) >= _AHEAD:
                    break
            try:
                _make_one(folder, state)
            except OSError as exc:
                if _unsupported(exc):
                    _log.debug("no files made ahead in %s: %s", folder, exc)
                    _stop(state)
                    return
                # The folder went away, the disk is full...: the writer that needs a file
                # makes its own and reports the error; the next request tries again.
                _log.debug("cannot make a file ahead in %s: %s", folder, exc)
                break


def _make_one(folder: str, state: _State) -> None:
    with state.making:
        if not state.checked:
            _probe(folder)  # once: that a file made here can be named later
            state.checked = True
        fd = _open_anonymous(folder)
        with state.lock:
            if state.stopped:
                os.close(fd)
                return
            state.ready.append(fd)
            state.changed.notify_all()


def _stop(state: _State) -> None:
    with state.lock:
        state.stopped = True
        ready = list(state.ready)
        state.ready.clear()
        state.changed.notify_all()
    state.wanted.set()
    for fd in ready:
        with suppress(OSError):
            os.close(fd)


def _reset_in_child(instance: FilesAhead) -> None:
    # The parent keeps its files and its thread; the child has neither, and must never write
    # into a file the parent will name. It closes its copies and starts afresh (or stays
    # stopped, if the parent had stopped). The old locks may be held: they are dropped.
    old = instance._state
    instance._finalizer.detach()
    for fd in list(old.ready):
        with suppress(OSError):
            os.close(fd)
    instance._reset(_State(stopped=old.stopped))


# A fork waits until no thread holds a descriptor that is not yet listed.
_forks: ForkGuard[FilesAhead] = ForkGuard(
    lock_of=lambda instance: instance._state.making, reset_in_child=_reset_in_child
)
