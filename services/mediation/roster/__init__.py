"""The station's staff roster and its villages (分片包村), kept in mediation's database."""
