"""Pinsphere: a media-pin store with tags, boards, search and sharing over pluggable backends."""

from pinsphere.hookspecs import hookimpl

__all__ = ["hookimpl"]
