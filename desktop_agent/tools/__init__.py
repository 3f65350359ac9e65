"""The agent's tools: the basics (time, calculator), a workspace folder (list, read,
search, write), fetching web pages, a shell, the catalog that picks them, and the
MCP client (the only module that imports `mcp`)."""
