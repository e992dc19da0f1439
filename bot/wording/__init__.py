"""Every word people read, and how Markdown becomes Slack text. Pure."""
