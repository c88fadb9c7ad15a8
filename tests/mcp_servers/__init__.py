"""Real MCP servers for the tests, built with the official SDK (stdio and streamable HTTP)."""
