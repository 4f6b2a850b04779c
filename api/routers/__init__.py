"""One router per concept (the names of ``vault``'s use cases); each route is one use-case
call, or one query on a view."""
