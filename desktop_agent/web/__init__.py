"""The HTTP surface (`desktop-agent serve`): the only package that imports aiohttp."""
