"""Where questions come in: Slack (events, the slash command, buttons, the assistant panel, the
Home tab), the browser chat and dashboard, the terminal, and the HTTP server that carries them."""
