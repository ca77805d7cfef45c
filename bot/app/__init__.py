"""Settings and wiring: what the service is made of, built from the settings."""
