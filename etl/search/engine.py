"""Reading the search index: lenient queries, every match, ranked hits with snippets, similar
decisions.

Any text is a query, and never an error. It is parsed with Tantivy's lenient grammar
(``tantivy.parse_query_lenient``) and compiled here, so the rules are ours:

* words are ANDed (``urine drug screen``: all three, in any of the searched fields);
* ``"functional improvement"`` is a phrase (``"..."~2`` allows two words between);
* ``improv*`` is a prefix (at least three letters before the ``*``; shorter ones are words);
* ``OR``, ``AND``, ``NOT``, ``+word``, ``-word`` and parentheses are boolean operators;
* ``rationale:word`` searches one field (``request``, ``rationale``, ``guidelines``,
  ``summary``, ``diagnoses``, ``drug``, ``letter_id``, ``category``, ``drug_class``); another
  ``name:`` is read as a word;
* text the grammar cannot read whole (an unclosed quote or parenthesis, a stray operator) is
  searched for literally, its words as one phrase;
* ranges, sets, regular expressions and ``field:*`` are ignored (noted); a query longer than
  ``MAX_QUERY_CHARS`` is cut, and at most ``MAX_LEAVES`` words or phrases count.

A drug name in the query also highlights its ingredients and the other names of products holding
them (``norco`` highlights hydrocodone, acetaminophen, vicodin …); matching on drugs comes from
the index's ``drug`` field (``etl.search.synonyms``).

No DuckDB and no Streamlit here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import tantivy

from etl.search import schema, store
from etl.search.synonyms import drug_names

MAX_QUERY_CHARS = 500
MAX_LEAVES = 32
MIN_PREFIX = 3
MAX_BOOST = 10.0
PREFIX_HIGHLIGHT_TERMS = 50
# Every match is listed by Tantivy, then read back as keys: beyond half the index, the items
# that do NOT match are listed instead (fewer of them), and the filter is negated.
SNIPPET_CHARS = 220


class IndexUnavailable(RuntimeError):
    """No usable index for this warehouse version (the message says why, for a user)."""


@dataclass(frozen=True)
class Leaf:
    """A word, phrase or prefix of a query (lower-case tokens), in one field or the defaults."""

    field: str | None
    tokens: tuple[str, ...]
    prefix: bool
    phrase: str  # as written (drug names are looked up by it)


@dataclass
class CompiledQuery:
    """A query text made into a Tantivy query."""

    text: str
    query: tantivy.Query | None  # None: nothing to search for (matches nothing)
    leaves: list[Leaf] = field(default_factory=list)  # the positive ones (highlighted)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.query is None


@dataclass(frozen=True)
class Hit:
    key: int
    letter_id: str
    item_no: int
    score: float
    address: tantivy.DocAddress


@dataclass(frozen=True)
class Snippet:
    field: str
    text: str  # a fragment of the field, or the whole field
    spans: tuple[tuple[int, int], ...]  # character offsets of the matches in ``text``
    cut_start: bool = False  # the fragment starts inside the field
    cut_end: bool = False


def normalise(text: str | None) -> str:
    """The query as it is searched (whitespace collapsed, cut at MAX_QUERY_CHARS)."""
    if not text:
        return ""
    return " ".join(str(text).replace("\x00", " ").split())[:MAX_QUERY_CHARS]


class SearchIndex:
    """An opened index, checked against the warehouse version it belongs to."""

    def __init__(self, folder: Path, marker: dict[str, Any]) -> None:
        self.folder = folder
        self.marker = marker
        self.salt = int(marker.get("salt", 0))
        self.index = tantivy.Index.open(str(folder))
        self.schema = self.index.schema
        self.searcher = self.index.searcher()
        self.analyzer = schema.analyzer()

    @classmethod
    def open(cls, version: Path, meta: dict[str, str], hash_probe: str) -> SearchIndex:
        """The index the warehouse file ``version`` names in its ``meta`` (``search_index``,
        ``search_index_id``), checked: complete, same id, same format, same DuckDB hash."""
        name, index_id = meta.get("search_index"), meta.get("search_index_id")
        if not name or not index_id:
            raise IndexUnavailable("this warehouse has no search index: run `imr ingest` on it")
        if os.sep in name or name in (".", "..") or not name.endswith(store.SUFFIX):
            raise IndexUnavailable("this warehouse names no valid search index")
        folder = version.with_name(name)
        marker = store.read_marker(folder)
        if marker is None or marker.get("state") != store.COMPLETE:
            raise IndexUnavailable(f"the search index {name} is missing: run `imr ingest`")
        if marker.get("id") != index_id or marker.get("warehouse") != version.name:
            raise IndexUnavailable(f"the search index {name} does not match this warehouse")
        if marker.get("format") != schema.FORMAT:
            raise IndexUnavailable("the search index is of another format: run `imr ingest`")
        if str(marker.get("hash_probe")) != hash_probe:
            raise IndexUnavailable(
                "the search index was built with another DuckDB version: run `imr ingest`"
            )
        try:
            return cls(folder, marker)
        except ValueError as error:
            raise IndexUnavailable(f"the search index {name} cannot be read ({error})") from None

    @property
    def documents(self) -> int:
        return int(self.searcher.num_docs)

    # -- queries ------------------------------------------------------------------------------

    def compile(self, text: str | None) -> CompiledQuery:
        """``text`` as a query; any text compiles (at worst to an empty query)."""
        normalised = normalise(text)
        compiled = CompiledQuery(normalised, None)
        if not normalised:
            return compiled
        try:
            ast, errors = tantivy.parse_query_lenient(normalised)
        except ValueError:
            ast, errors = {"type": "bool", "clauses": []}, []
        if errors:
            # Text the grammar cannot read whole (an unclosed quote or parenthesis, stray
            # operators) is searched for literally: its words as one phrase.
            compiled.notes.append("the query's syntax could not be read: searched as a phrase")
            ast = {"type": "literal", "field_name": None, "phrase": normalised}
            ast.update(delimiter="double_quotes", slop=0, prefix=False)
        budget = [MAX_LEAVES]
        compiled.query = self._node(ast, compiled, budget, positive=True)
        if budget[0] < 0:
            compiled.notes.append(f"only the first {MAX_LEAVES} words and phrases count")
        return compiled

    def _node(
        self, node: Any, compiled: CompiledQuery, budget: list[int], *, positive: bool
    ) -> tantivy.Query | None:
        if not isinstance(node, dict):
            return None
        kind = node.get("type")
        if kind == "literal":
            return self._literal(node, compiled, budget, positive=positive)
        if kind == "all":
            return tantivy.Query.all_query()
        if kind == "boost":
            inner = self._node(node.get("underlying"), compiled, budget, positive=positive)
            if inner is None:
                return None
            try:
                boost = min(max(float(node.get("boost", 1.0)), 0.0), MAX_BOOST)
            except (TypeError, ValueError):
                boost = 1.0
            return tantivy.Query.boost_query(inner, boost)
        if kind == "bool":
            return self._bool(node, compiled, budget, positive=positive)
        compiled.notes.append(f"{kind} queries are not supported and were ignored")
        return None

    def _bool(
        self, node: dict[str, Any], compiled: CompiledQuery, budget: list[int], *, positive: bool
    ) -> tantivy.Query | None:
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for occur, child in node.get("clauses") or []:
            negative = occur == "must_not"
            query = self._node(child, compiled, budget, positive=positive and not negative)
            if query is None:
                continue
            if negative:
                clauses.append((tantivy.Occur.MustNot, query))
            elif occur == "should":
                clauses.append((tantivy.Occur.Should, query))
            else:  # None (no operator: AND by default) or "must"
                clauses.append((tantivy.Occur.Must, query))
        if not clauses:
            return None
        if all(occur == tantivy.Occur.MustNot for occur, _ in clauses):
            # Only exclusions: everything but them.
            clauses.insert(0, (tantivy.Occur.Must, tantivy.Query.all_query()))
        if len(clauses) == 1 and clauses[0][0] != tantivy.Occur.MustNot:
            return clauses[0][1]
        return tantivy.Query.boolean_query(clauses)

    def _literal(
        self, node: dict[str, Any], compiled: CompiledQuery, budget: list[int], *, positive: bool
    ) -> tantivy.Query | None:
        field_name = node.get("field_name")
        phrase = str(node.get("phrase") or "")
        if field_name and field_name not in schema.USER_FIELDS:
            # "Note: improvement" is two words, not a field.
            parts = [
                {**node, "field_name": None, "phrase": str(field_name), "prefix": False},
                {**node, "field_name": None, "phrase": phrase},
            ]
            queries = [
                q
                for part in parts
                if (q := self._literal(part, compiled, budget, positive=positive)) is not None
            ]
            if not queries:
                return None
            if len(queries) == 1:
                return queries[0]
            return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])
        quoted = node.get("delimiter") not in (None, "none")
        prefix = bool(node.get("prefix"))
        if not quoted and phrase.endswith("*"):
            phrase, prefix = phrase.rstrip("*"), True
        fields = [field_name] if field_name else list(schema.DEFAULT_FIELDS)
        if field_name in schema.RAW_FIELDS:
            tokens: tuple[str, ...] = (phrase,) if phrase else ()
        else:
            tokens = tuple(self.analyzer.analyze(phrase))
        if not tokens:
            return None
        budget[0] -= 1
        if budget[0] < 0:
            return None
        if prefix and len(tokens) == 1 and len(tokens[0]) < MIN_PREFIX:
            prefix = False
        slop = max(int(node.get("slop") or 0), 0)
        queries = []
        for name in fields:
            query = self._field_query(name, tokens, prefix, slop)
            boost = schema.DEFAULT_FIELDS.get(name, 1.0) if not field_name else 1.0
            queries.append(query if boost == 1.0 else tantivy.Query.boost_query(query, boost))
        if positive:
            compiled.leaves.append(Leaf(field_name, tokens, prefix, phrase))
        if len(queries) == 1:
            return queries[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])

    def _field_query(
        self, name: str, tokens: tuple[str, ...], prefix: bool, slop: int
    ) -> tantivy.Query:
        if len(tokens) == 1:
            if prefix and name not in schema.RAW_FIELDS:
                # Tokens are letters and digits only: nothing to escape in the pattern.
                return tantivy.Query.regex_query(self.schema, name, f"{tokens[0]}.*")
            return tantivy.Query.term_query(self.schema, name, tokens[0])
        if prefix:
            return tantivy.Query.phrase_prefix_query(self.schema, name, list(tokens))
        return tantivy.Query.phrase_query(self.schema, name, list(tokens), slop=slop)

    # -- matches ------------------------------------------------------------------------------

    def count(self, compiled: CompiledQuery) -> int:
        if compiled.query is None:
            return 0
        result = self.searcher.search(compiled.query, 1, count=True)
        return int(getattr(result, "count", 0) or 0)

    def keys(self, compiled: CompiledQuery) -> tuple[pa.Array, bool]:
        """The keys of every matching item, or — when they are more than half the index — of
        every item that does not match, with True ("negated")."""
        if compiled.query is None:
            return pa.array([], pa.uint64()), False
        total = self.documents
        matches = self.count(compiled)
        negated = matches * 2 > total
        query = compiled.query
        if negated:
            query = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, tantivy.Query.all_query()),
                    (tantivy.Occur.MustNot, compiled.query),
                ]
            )
            matches = total - matches
        if matches == 0:
            return pa.array([], pa.uint64()), negated
        hits = self.searcher.search(query, matches, count=False).hits
        addresses = [address for _, address in hits]
        values = self.searcher.fast_field_values(schema.KEY, addresses)
        return pa.array(values, pa.uint64()), negated

    def top(self, compiled: CompiledQuery, limit: int, offset: int = 0) -> list[Hit]:
        """The best ``limit`` matches (BM25), best first."""
        if compiled.query is None or limit <= 0:
            return []
        result = self.searcher.search(compiled.query, limit, count=False, offset=offset)
        return self._hits(result.hits)

    def top_keys(
        self, compiled: CompiledQuery, limit: int
    ) -> list[tuple[float, tantivy.DocAddress, int]]:
        """The best ``limit`` matches as (score, address, key), best first: no stored fields
        read (cheap for long lists; ``hits`` reads the details of those kept)."""
        if compiled.query is None or limit <= 0:
            return []
        scored = self.searcher.search(compiled.query, limit, count=False).hits
        keys = self.searcher.fast_field_values(schema.KEY, [address for _, address in scored])
        return [
            (float(score), address, int(key or 0))
            for (score, address), key in zip(scored, keys, strict=True)
        ]

    def hits(self, scored: list[tuple[float, tantivy.DocAddress, int]]) -> list[Hit]:
        """Hits (with letter and item) of ``top_keys`` results."""
        return self._hits([(score, address) for score, address, _ in scored])

    def _hits(self, scored: Iterable[tuple[Any, tantivy.DocAddress]]) -> list[Hit]:
        hits = []
        for score, address in scored:
            doc = self.searcher.doc(address)
            key, item_no = doc.get_first(schema.KEY), doc.get_first(schema.ITEM_NO)
            hits.append(
                Hit(
                    int(key or 0),
                    str(doc.get_first(schema.LETTER_ID)),
                    int(item_no or 0),
                    float(score),
                    address,
                )
            )
        return hits

    # -- highlighting -------------------------------------------------------------------------

    def highlight_words(self, compiled: CompiledQuery) -> tuple[frozenset[str], tuple[str, ...]]:
        """What to mark in a text: whole words, and word prefixes. A drug name brings its
        related names' words (``etl.search.synonyms``)."""
        words: set[str] = set()
        prefixes: list[str] = []
        names = drug_names()
        for leaf in compiled.leaves:
            if leaf.field in schema.RAW_FIELDS:
                continue
            if leaf.prefix:
                *whole, last = leaf.tokens
                words.update(whole)
                prefixes.append(last)
            else:
                words.update(leaf.tokens)
            for name in names.related(leaf.phrase) | {
                n for token in leaf.tokens for n in names.related(token)
            }:
                words.update(self.analyzer.analyze(name))
        return frozenset(words), tuple(sorted(set(prefixes)))

    def spans(
        self, compiled: CompiledQuery, text: str | None, words: Any = None
    ) -> list[tuple[int, int]]:
        """Character offsets of the query's words (and related drug names) in ``text``."""
        if not text or compiled.query is None:
            return []
        whole, prefixes = words if words is not None else self.highlight_words(compiled)
        if not whole and not prefixes:
            return []
        found = []
        for token in self.analyzer.pre_tokenize(text).tokens:
            word = token.text
            if word in whole or (prefixes and word.startswith(prefixes)):
                found.append((int(token.char_offset_from), int(token.char_offset_to)))
        return found

    def snippets(
        self, compiled: CompiledQuery, texts: Sequence[Mapping[str, str | None]]
    ) -> list[Snippet | None]:
        """For each hit's texts (``schema.SNIPPET_FIELDS`` by name, as the warehouse holds
        them: the index stores none), the best passage of its rationale, request or guidelines
        with the matches marked (None when none of them holds a match)."""
        if compiled.query is None:
            return [None for _ in texts]
        words = self.highlight_words(compiled)
        out: list[Snippet | None] = []
        for fields in texts:
            chosen: Snippet | None = None
            for name in schema.SNIPPET_FIELDS:
                text = fields.get(name)
                if not text:
                    continue
                spans = self.spans(compiled, text, words)
                if spans:
                    chosen = _window(name, text, spans)
                    break
            out.append(chosen)
        return out

    # -- similar decisions --------------------------------------------------------------------

    def address_of(self, key: int) -> tantivy.DocAddress | None:
        query = tantivy.Query.term_query(self.schema, schema.KEY, key)
        hits = self.searcher.search(query, 1, count=False).hits
        return hits[0][1] if hits else None

    def similar(
        self,
        key: int,
        texts: Mapping[str, str | None],
        limit: int = 20,
        same: tuple[str, str] | None = None,
    ) -> list[Hit]:
        """Items whose request and rationale read most like this item's (``texts``: its
        ``request`` and ``rationale``, as the warehouse holds them), optionally only those with
        ``same = (field, value)`` (``drug_class`` or ``category``); never the item itself."""
        fields = {
            name: [str(texts[name])]
            for name in (schema.REQUEST, schema.RATIONALE)
            if texts.get(name)
        }
        if not fields or self.address_of(key) is None:
            return []
        like = tantivy.Query.more_like_this_document_fields_query(
            self.schema,
            fields,
            min_doc_frequency=2,
            max_doc_frequency=max(self.documents // 2, 2),
            min_term_frequency=1,
            max_query_terms=40,
            min_word_length=3,
        )
        clauses = [
            (tantivy.Occur.Must, like),
            (tantivy.Occur.MustNot, tantivy.Query.term_query(self.schema, schema.KEY, key)),
        ]
        if same is not None and same[1]:
            clauses.append(
                (tantivy.Occur.Must, tantivy.Query.term_query(self.schema, same[0], same[1]))
            )
        query = tantivy.Query.boolean_query(clauses)
        return self._hits(self.searcher.search(query, limit, count=False).hits)


def _densest(spans: list[tuple[int, int]]) -> int:
    """The start of the match that begins the window holding the most distinct matches."""
    best, best_count, right = 0, 0, 0
    for left, (start, _) in enumerate(spans):
        right = max(right, left)
        while right + 1 < len(spans) and spans[right + 1][1] - start <= SNIPPET_CHARS * 2 // 3:
            right += 1
        count = right - left + 1
        if count > best_count:
            best, best_count = left, count
    return spans[best][0]


def _window(name: str, text: str, spans: list[tuple[int, int]]) -> Snippet:
    """About SNIPPET_CHARS of ``text`` around its densest run of matches (cut at spaces),
    spans re-based; the whole text when it is short."""
    if len(text) <= SNIPPET_CHARS:
        return Snippet(name, text, tuple(spans))
    first = _densest(spans)
    start = max(0, first - SNIPPET_CHARS // 4)
    if start > 0:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space > 0 else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.find(" ", end)
        end = space if 0 < space < end + 30 else end
    inside = tuple((s - start, e - start) for s, e in spans if s >= start and e <= end)
    return Snippet(name, text[start:end], inside, start > 0, end < len(text))
