"""Hostile model text for the safety tests (issue 9): see :mod:`tests.corpus.payloads`."""
