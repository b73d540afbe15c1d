"""The rules of the newsroom: who may do what to blogs and posts, and what each change records.

Domain functions take a SQLAlchemy session and an actor and raise errors from
`liveticker.exceptions`; the API, the reader pages and the CLI all call them.
"""
