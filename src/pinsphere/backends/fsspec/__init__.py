"""Blobs on an fsspec filesystem: a local folder, process memory, or any other protocol.

URLs:

* ``file:///abs/path`` (or a plain path): a local folder, created if missing.
* ``memory://``: a private in-process store with a random root, dropped on
  :meth:`~FsspecBlobBackend.close`; ``memory://name`` uses ``/name``, shared by every store
  in the process that names it (fsspec's memory filesystem is process-global).
* any other fsspec protocol (``gcs://bucket/prefix``, ``sftp://host/path``...): served
  through the generic fsspec calls. Settings the URL cannot carry (credentials, endpoints)
  come from fsspec's own configuration (``FSSPEC_<PROTOCOL>_<KEY>`` environment variables or
  its config files), or from a protocol's options model registered with
  :func:`register_options_model`.

Options in the query string (:class:`FsspecBlobOptions`, strict): ``chunk_size`` (bytes per
read from the store, default 1 MiB; the field notes measured 64 KiB reads 3x slower) and, for
local folders only, ``fsync`` (default ``true``: a commit returns only once the blob and its
folder entry are on the disk, so a crash cannot lose a blob whose pin was saved; ``false``
gives up that guarantee for roughly 10x the small-file write rate, as measured here for
100 KiB blobs) and ``files_ahead`` (default ``true`` where the system supports it: a thread
makes the next blob's file ahead of time, see :mod:`~pinsphere.backends.fsspec.ahead`).

Layout under the root: a blob lives at ``<root>/<key>``; a write in progress lives at
``<root>/.staging/<random>`` and is moved to its key on commit, so a reader never sees a
partial blob. ``.staging`` is never listed and cannot be used as a key. Staged files a crash
left behind are removed by :meth:`FsspecBlobBackend.sweep_staging`. On a local folder a write
usually goes to a file made ahead with no name at all (Linux ``O_TMPFILE``, in the staging
folder's filesystem), linked under its key on commit: a crash leaves nothing to sweep.

Modules, one job each:

* :mod:`~pinsphere.backends.fsspec.backend`: :class:`FsspecBlobBackend` itself;
* :mod:`~pinsphere.backends.fsspec.keys`: which strings are keys; the staging folder's name;
* :mod:`~pinsphere.backends.fsspec.options`: URL options and the per-protocol models;
* :mod:`~pinsphere.backends.fsspec.writers`: staged writers and how each kind publishes;
* :mod:`~pinsphere.backends.fsspec.ahead`: local files made ahead on a background thread;
* :mod:`~pinsphere.backends.fsspec.readers`: the file objects handed out for reading;
* :mod:`~pinsphere.backends.fsspec.staging`: sweeping abandoned writes;
* :mod:`~pinsphere.backends.fsspec.timestamps`: modification times as aware UTC;
* :mod:`~pinsphere.backends.fsspec.memory`: direct access to fsspec's memory filesystem;
* :mod:`~pinsphere.backends.fsspec.errors`: native errors into :mod:`pinsphere.errors`;
* :mod:`~pinsphere.backends.fsspec.s3`: ``s3://`` buckets (AWS, MinIO) as a subclass, with
  :mod:`~pinsphere.backends.fsspec.s3_options`, :mod:`~pinsphere.backends.fsspec.s3_writer`
  (a conditional ``PutObject``, or a multipart upload and a server-side copy) and
  :mod:`~pinsphere.backends.fsspec.s3_errors`; imported only when an ``s3://`` URL is opened.
"""

from pinsphere.backends.fsspec.backend import FsspecBlobBackend
from pinsphere.backends.fsspec.keys import STAGING_FOLDER, validate_key
from pinsphere.backends.fsspec.options import FsspecBlobOptions, register_options_model

__all__ = [
    "STAGING_FOLDER",
    "FsspecBlobBackend",
    "FsspecBlobOptions",
    "register_options_model",
    "validate_key",
]
