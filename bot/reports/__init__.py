"""Report files (Excel, CSV, JSON, PNG) written for the command line and the web page."""
