"""The HTTP layer: the JSON API, the reader pages, and the glue between them and the domain.

Routes parse input and render output; the rules live in `liveticker.domain`.
"""
