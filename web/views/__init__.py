"""The dashboard's views: each parses the request, calls one service, renders a template."""
