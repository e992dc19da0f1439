"""Claude: the streaming request with tools, token usage, and what tokens cost."""
