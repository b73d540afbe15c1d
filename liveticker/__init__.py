"""Liveticker: an open-source live-blog platform for newsrooms.

The package is split by concern: `domain` holds the rules, `storage` the database,
`web` the HTTP API and reader pages, `scoring` the community-notes engine, `cli` the
command line. See docs/architecture.md.
"""

__version__ = "0.1.0"
