"""C core for the hot paths of `protocols` (CPython only, built with cffi)."""
