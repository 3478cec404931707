"""Full-text search: a Tantivy index beside each warehouse version.

* ``store``: the index folder's life beside its version file (names, marker, removal of only
  what we wrote, hard-link copies).
* ``schema``: the fields, their tokenizers, the format version.
* ``synonyms``: drug names of the vocabulary (brands, aliases) <-> generic ingredients.
* ``build``: built by ``imr ingest`` in the build, before the version is published.
* ``engine``: the reader: lenient query parsing, matches, ranked hits with snippets, similar
  decisions.
"""
