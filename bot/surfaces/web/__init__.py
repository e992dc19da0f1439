"""The browser surfaces: the chat (Server-Sent Events) and the usage dashboard."""
