"""ShopMax Assistant: a Slack bot that streams Claude's answers for ShopMax India store staff."""

__version__ = "0.1.0"
