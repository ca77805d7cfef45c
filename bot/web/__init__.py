"""The web page: its server, sign-in, pages and templates."""
