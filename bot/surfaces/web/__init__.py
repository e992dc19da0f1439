"""The browser surfaces: the chat (Server-Sent Events into the one answering path) and the
usage dashboard for admins, each behind its own credential (`access.py`)."""
