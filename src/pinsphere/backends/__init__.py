"""Backend interfaces and the built-in implementations.

The interfaces live in :mod:`pinsphere.backends.base`; implementations are found through the
plugin registry (:mod:`pinsphere.registry`) by URL scheme, and imported only when a URL asks
for them.
"""
