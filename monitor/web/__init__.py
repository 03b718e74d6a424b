"""The web desk (`monitor serve`, `monitor run --web`): the change log with filters and
triage, one page per change, company footprints on a world map, source health, an Atom
feed and a JSON API, over the same database and store functions as the CLI.

- :mod:`monitor.web.routes`: the Starlette app (the route table); its handlers (thin: no
  SQL here) are in :mod:`~monitor.web.pages`, :mod:`~monitor.web.triage`,
  :mod:`~monitor.web.api` and :mod:`~monitor.web.signin`, over :mod:`~monitor.web.desk`;
- :mod:`monitor.web.present`: pure helpers (filters from a query string, highlighting,
  the coloured map, the Atom document);
- :mod:`monitor.web.security`: bind policy, token and session, CSRF, Origin, CSP;
- :mod:`monitor.web.server`: uvicorn, in the foreground or beside the daemon;
- ``templates/`` (Jinja2, autoescaped) and ``static/`` (CSS, a small keyboard script,
  htmx 2 and the world map, vendored with their licences: no CDN).
"""
