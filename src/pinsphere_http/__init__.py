"""Pinsphere over HTTP: a FastAPI adapter serving a PinStore as a REST service."""
