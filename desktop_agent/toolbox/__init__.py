"""Built-in tools beyond the basics: a workspace folder (list, read, search, write),
fetching web pages, a shell; MCP servers; and the settings that choose them."""
