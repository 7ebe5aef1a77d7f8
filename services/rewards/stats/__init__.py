"""Rewards' figures for a period: envelopes (and, with nominations, awards and honours)."""
