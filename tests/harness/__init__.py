"""Test harnesses shared by the test packages: the in-process call pair (``pair``)."""
