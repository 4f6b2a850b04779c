"""The vault: use cases, blob stores, settings, tokens and the client SDK."""
