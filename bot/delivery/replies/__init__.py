"""The replies an answer streams into, one class per transport."""
