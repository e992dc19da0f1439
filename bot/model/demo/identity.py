"""What the offline demo model is called, and the key the SDK is given for it (any will do)."""

DEMO_MODEL = "shopmax-offline-demo"
DEMO_API_KEY = "offline-demo"  # the SDK wants some key; the demo takes any
