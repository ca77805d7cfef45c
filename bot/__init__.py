"""The bot edge: configuration, CLI, wiring, platform adapters, the router and message catalogs."""
