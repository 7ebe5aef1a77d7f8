"""The rewards ledger: append-only money entries, monthly budgets, one payout per subject."""
