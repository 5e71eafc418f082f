"""Built-in plugins: Pinsphere's own backends, registered through the public hooks."""
