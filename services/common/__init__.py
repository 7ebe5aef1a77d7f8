"""Infrastructure shared by every service: config, database, broker, messaging, health."""
