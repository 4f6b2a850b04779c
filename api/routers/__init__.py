"""One router per resource or audience; each route is one ``Vault`` call."""
