"""What answers cost and how fast they were: the ledger row, totals over rows, the metrics."""
