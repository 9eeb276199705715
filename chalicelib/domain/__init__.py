"""The heart of MDS: pure rules, no I/O. Imports nothing outside ``chalicelib.domain`` and the stdlib."""
