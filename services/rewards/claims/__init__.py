"""Hazard claims: grid red envelopes (网格红包) from verification to payout."""
