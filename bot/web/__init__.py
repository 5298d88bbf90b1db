"""The web face: the WSGI application, its server, and one module of routes per feature."""
