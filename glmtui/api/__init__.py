"""The provider boundary: HTTP client, stream decoding, typed events and errors.

Nothing in this package imports Textual, so the CLI, the store and tests use it on its own.
"""
