"""The coopgraph command line: a thin click layer, each command calling one library function.

Exit codes: 0 success; 1 the input was read and fails (violations, a refused query);
2 the input could not be read or used (syntax error with file and line, unknown name, bad option).
"""

from __future__ import annotations

import datetime
import functools
import logging
import sys
from pathlib import Path

import click
from rdflib import URIRef

from . import __version__, export, queries
from .embed import EMBED_DEPTH, embed_document, script_block
from .errors import EXIT_BAD_INPUT, CoopgraphError, InputError
from .pipeline import Toolkit, ValidationFailed, build as build_dist, class_counts
from .project import find_project
from .safety import parse_into
from .store import DEFAULT_STORE, STORES
from .validate import VALIDATORS, validate as validate_graph


class _IllTypedLiteralFilter(logging.Filter):
    """Drops rdflib's traceback for a literal that is not of its datatype ("2022-13-01"^^xsd:date):
    validation reports it in plain words, with the file and line to fix."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Failed to convert Literal lexical form")


_RDFLIB_TERM_LOG = logging.getLogger("rdflib.term")


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(func):
    """Turn a CoopgraphError into its message on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ValidationFailed as exc:
            click.echo(exc.report.text(), err=True, nl=False)
            click.echo("error: the graph does not conform; nothing was written", err=True)
            sys.exit(exc.exit_code)
        except CoopgraphError as exc:
            _fail(exc.message, exc.exit_code)

    return wrapper


def _toolkit(ctx: click.Context) -> Toolkit:
    obj = ctx.obj
    return Toolkit(find_project(obj.get("root")), store_kind=obj.get("store", DEFAULT_STORE),
                   store_path=obj.get("store_path"), validator=obj.get("validator", "auto"))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="coopgraph")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project folder (holding ontology/ and data/). Default: $COOPGRAPH_ROOT or the current folder or a parent.")
@click.option("--store", type=click.Choice(STORES), default=DEFAULT_STORE, show_default=True, envvar="COOPGRAPH_STORE",
              help="Where the graph lives: Oxigraph (fast, any size) or rdflib in memory (pure Python). $COOPGRAPH_STORE.")
@click.option("--store-path", type=click.Path(file_okay=False, path_type=Path), default=None,
              envvar="COOPGRAPH_STORE_PATH",
              help="Keep the Oxigraph store on disk in DIR: built once, reopened without parsing while the "
                   "sources are unchanged (for large graphs and `serve`). $COOPGRAPH_STORE_PATH.")
@click.option("--validator", type=click.Choice(VALIDATORS), default="auto", show_default=True,
              help="SHACL engine: sparql (shapes as SPARQL on the store), pyshacl, or auto (sparql on Oxigraph).")
@click.pass_context
def cli(ctx: click.Context, root: Path | None, store: str, store_path: Path | None, validator: str) -> None:
    """coopgraph: the ILO's work on cooperatives in Europe and Central Asia as a validated knowledge graph."""
    ctx.ensure_object(dict)
    ctx.obj.update(root=root, store=store, store_path=store_path, validator=validator)
    if not any(isinstance(f, _IllTypedLiteralFilter) for f in _RDFLIB_TERM_LOG.filters):
        _RDFLIB_TERM_LOG.addFilter(_IllTypedLiteralFilter())


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder. Default: dist/ in the project.")
@click.pass_context
@handle_errors
def build(ctx: click.Context, out_dir: Path | None) -> None:
    """Build the graph from ontology/ and data/, validate it against shapes/, write the dumps.

    On violations the report is printed, nothing is written, and the exit code is 1.
    """
    kit = _toolkit(ctx)
    result = build_dist(kit.project, out_dir, toolkit=kit)
    click.echo(f"coopgraph {__version__}: {result.triples} triples in {result.graphs} named graphs")
    click.echo("entities per class:")
    width = max(len(k) for k in result.counts)
    for cls, n in result.counts.items():
        click.echo(f"  {cls.ljust(width)}  {n:>4}")
    click.echo(f"validation: {result.report.summary()}")
    for r in result.report.results:
        click.echo(f"  {r.severity}: {r.focus} {r.path}: {r.message}")
    click.echo("written:")
    for path in result.written:
        click.echo(f"  {kit.project.relative(path)}  ({path.stat().st_size:,} bytes)")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "turtle"]), default="text", show_default=True,
              help="text: a readable report; turtle: the SHACL validation report graph.")
@click.pass_context
@handle_errors
def validate(ctx: click.Context, paths: tuple[Path, ...], fmt: str) -> None:
    """Validate the dataset, or the given RDF files, against shapes/.

    Exit 0 conforms, 1 violations, 2 unreadable input (the message names file and line).
    """
    kit = _toolkit(ctx)
    if paths:
        from .build import new_dataset, union_graph
        ds = new_dataset()
        for path in paths:
            if not path.is_file():
                raise InputError(f"{path}: no such file")
            parse_into(ds, path, loader=kit.loader)
        report = validate_graph(union_graph(ds), kit.shapes())
    else:
        report = kit.validate()
    click.echo(report.turtle() if fmt == "turtle" else report.text(), nl=False)
    sys.exit(0 if report.conforms else 1)


def endpoint_options(push: bool):
    """The options that reach an external SPARQL store (for `push` and `query --endpoint`)."""
    def decorate(func):
        options = [
            click.option("--endpoint", required=push, metavar="URL",
                         help="The store's SPARQL query endpoint, e.g. http://127.0.0.1:8890/sparql."
                         + ("" if push else " Runs the query there instead of on the local graph.")),
            click.option("--graph", "union_graph", default=None, metavar="IRI",
                         help="The graph holding the union of our graphs on the endpoint (push writes it, "
                              "queries use it as their default graph). Default: graph:union."),
            click.option("--user", default=None, envvar="COOPGRAPH_ENDPOINT_USER",
                         help="User for the endpoint. $COOPGRAPH_ENDPOINT_USER."),
            click.option("--password", default=None, envvar="COOPGRAPH_ENDPOINT_PASSWORD", show_envvar=False,
                         help="Password for the endpoint (never printed). Prefer $COOPGRAPH_ENDPOINT_PASSWORD."),
            click.option("--auth", type=click.Choice(["any", "basic", "digest"]), default="any", show_default=True,
                         help="HTTP authentication: whatever the server asks (any), or always basic / digest."),
        ]
        if push:
            options += [
                click.option("--method", type=click.Choice(["update", "gsp"]), default="update", show_default=True,
                             help="update: SPARQL 1.1 Update INSERT DATA; gsp: SPARQL 1.1 Graph Store Protocol."),
                click.option("--update-endpoint", default=None, metavar="URL",
                             help="Where updates go (default: --endpoint), e.g. http://HOST:8890/sparql-auth."),
                click.option("--gsp-endpoint", default=None, metavar="URL",
                             help="Graph Store Protocol address for --method gsp, e.g. http://HOST:8890/sparql-graph-crud-auth."),
                click.option("--batch-size", type=click.IntRange(1, None), default=None,
                             help="Triples per request. Default: 1000 for update (SPARQL compilers such as "
                                  "Virtuoso's choke on larger INSERT DATA), 10000 for gsp."),
            ]
        for option in reversed(options):
            func = option(func)
        return func
    return decorate


def _endpoint(options: dict):
    from . import remote
    if options.get("union_graph") is None:
        options["union_graph"] = remote.UNION_GRAPH
    else:
        options["union_graph"] = _iri(options["union_graph"])
    return remote.Endpoint(options["endpoint"], update_url=options.get("update_endpoint"),
                           gsp_url=options.get("gsp_endpoint"), user=options.get("user"),
                           password=options.get("password"), auth=options.get("auth", "any"))


@cli.command()
@click.argument("name", required=False)
@click.option("--list", "list_", is_flag=True, help="List the named queries with their titles.")
@click.option("--format", "fmt", type=click.Choice(queries.FORMATS), default="table", show_default=True)
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
              help="A query parameter (repeatable), e.g. --param since=2022-05-01.")
@endpoint_options(push=False)
@click.pass_context
@handle_errors
def query(ctx: click.Context, name: str | None, list_: bool, fmt: str, params: tuple[str, ...],
          **remote_options) -> None:
    """Run a named query (see --list) or a .rq file on the graph, or on a store it was pushed to (--endpoint)."""
    kit = _toolkit(ctx)
    if list_ or not name:
        if not list_:
            raise InputError("give a query NAME or FILE, or --list to see them")
        for q in queries.list_queries(kit.project.queries_dir):
            ps = " ".join(f"[{p.name}={p.type}]" if not p.required else f"{p.name}={p.type}" for p in q.params)
            click.echo(f"{q.name:<28} {q.title}" + (f"  ({ps})" if ps else ""))
        return
    named = queries.find_query(kit.project.queries_dir, name)
    values = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--param {item!r}: write NAME=VALUE")
        values[key.strip()] = value
    text = named.bind(values)
    store = None
    if remote_options.get("endpoint"):
        from . import remote
        result = remote.query(_endpoint(remote_options), text, union_graph=remote_options["union_graph"])
    else:
        store = kit.store
        # Oxigraph's answer is formatted as it comes (no rdflib terms); the memory store's is rdflib's.
        result = store.query_native(text) if hasattr(store, "query_native") else store.query(text)
    from .build import bind_prefixes
    from rdflib import Graph
    names = Graph()
    bind_prefixes(names)
    click.echo(queries.format_result(result, fmt, namespace_manager=names.namespace_manager), nl=False)


@cli.command()
@endpoint_options(push=True)
@click.pass_context
@handle_errors
def push(ctx: click.Context, **options) -> None:
    """Load the build into an external SPARQL 1.1 store (Virtuoso, Fuseki, GraphDB, Oxigraph server...).

    Every named graph goes into its own graph, and their union into --graph; each graph is
    replaced, in batches, and the triple count of every graph is checked afterwards. The graph is
    validated first: nothing is pushed when it does not conform.
    """
    from . import remote
    kit = _toolkit(ctx)
    endpoint = _endpoint(options)
    report = kit.validate()
    if not report.conforms:
        raise ValidationFailed(report)
    result = remote.push(kit.store, endpoint, union_graph=options["union_graph"], method=options["method"],
                         batch_size=options["batch_size"] or remote.DEFAULT_BATCH[options["method"]])
    union = result.graphs.get(options["union_graph"], 0)
    click.echo(f"pushed {len(result.graphs) - 2} graphs, a list of them and their union <{options['union_graph']}> "
               f"({union} triples) to {endpoint.url} in {result.requests} requests, {result.seconds:.1f} s; "
               "every graph's triple count checked")


@cli.command("export")
@click.option("--format", "fmt", type=click.Choice(list(export.FORMATS)), default="jsonld", show_default=True)
@click.option("--id", "iri", default=None, help="One entity (IRI or prefix:name), framed as one self-contained JSON-LD document.")
@click.option("--frame", "frame_type", default=None, help="Every entity of a schema.org type (e.g. Event), each framed.")
@click.option("--depth", type=click.IntRange(0, 10), default=export.DEFAULT_DEPTH, show_default=True,
              help="How many links deep --id/--frame nest linked entities.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (atomically) instead of standard output.")
@click.pass_context
@handle_errors
def export_cmd(ctx: click.Context, fmt: str, iri: str | None, frame_type: str | None, depth: int,
               output: Path | None) -> None:
    """Export the graph as JSON-LD, Turtle, N-Triples, TriG or N-Quads."""
    kit = _toolkit(ctx)
    if iri or frame_type:
        union = kit.loaded.union()
        sub = None
        if iri:
            target = URIRef(_iri(iri))
            sub = export.describe(union, target, depth)
            if fmt == "jsonld":
                doc = export.frame_entity(union, target, kit.context, kit.loader, depth)
        else:
            type_iri = URIRef(_iri(frame_type if ":" in frame_type else f"schema:{frame_type}"))
            sub = None
            if fmt == "jsonld":
                doc = export.frame_type(union, type_iri, kit.context, kit.loader, depth)
            else:
                from rdflib import Graph
                sub = Graph()
                for member in sorted(union.subjects(export.RDF.type, type_iri)):
                    sub += export.describe(union, member, depth)
                if not len(sub):
                    raise InputError(f"no entity of type <{type_iri}>")
        if fmt == "jsonld":
            text = export.dumps_json(doc)
        elif fmt in ("trig", "nquads"):
            raise InputError("--id and --frame give one graph: use --format jsonld, turtle or nt")
        elif fmt == "turtle":
            text = export.turtle(sub)
        else:
            text = export.ntriples(sub)
    else:
        text = "".join(export.store_dump(kit.store, fmt, context=kit.context, loader=kit.loader))
    _emit(text, output)


@cli.command()
@click.argument("iri")
@click.option("--lang", default="en", show_default=True, help="Language of the page the block goes into.")
@click.option("--depth", type=click.IntRange(0, 5), default=EMBED_DEPTH, show_default=True,
              help="How many links deep linked entities are nested.")
@click.option("--any-type", is_flag=True,
              help="Give the block of any entity with a schema.org type (person, organisation, place...), "
                   "as the entity pages of `coopgraph serve` embed it.")
@click.pass_context
@handle_errors
def embed(ctx: click.Context, iri: str, lang: str, depth: int, any_type: bool) -> None:
    """Print the <script type="application/ld+json"> block for the page of an item, event or job posting."""
    kit = _toolkit(ctx)
    doc = embed_document(kit.loaded.union(), URIRef(_iri(iri)), kit.loader, lang=lang, depth=depth,
                         any_type=any_type)
    click.echo(script_block(doc), nl=False)


def _date(value: str | None, option: str) -> datetime.date | None:
    """A --date style option as a date; InputError names the option otherwise."""
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value!r}: write the date as YYYY-MM-DD") from None


@cli.command()
@click.argument("source")
@click.option("--url", default=None, help="Address the listing or feed was retrieved from. Default: the feed's own link; required for a text listing.")
@click.option("--retrieved", default=None, metavar="YYYY-MM-DD", help="Date it was retrieved (recorded as provenance). Default: today.")
@click.option("--publisher", default=None, help="Publisher of the items (IRI or prefix:name, e.g. organization:ilo). Default: the listing page's, or the organisation whose site the address is on.")
@click.option("--lang", default=None, help="Language of the items. Default: the feed's, else en.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.pass_context
@handle_errors
def ingest(ctx: click.Context, source: str, url: str | None, retrieved: str | None, publisher: str | None,
           lang: str | None, dry_run: bool) -> None:
    """Add the new items of a listing (text, as in data/raw/) or an RSS/Atom feed to data/ingested/.

    Items already in the data are matched, not duplicated; changed headlines, dates, categories
    and descriptions are listed for review, never overwritten. Exit 0 done (or nothing new),
    1 changes await review or the new items fail the shapes (nothing written), 2 unreadable input
    (the message names the line; nothing written).
    """
    from .ingest import IngestRefused, ingest as run_ingest, summary
    kit = _toolkit(ctx)
    when = _date(retrieved, "--retrieved")
    if when is None:
        import datetime
        when = datetime.date.today()
        click.echo(f"retrieval date: {when.isoformat()} (today; give --retrieved to state another)", err=True)
    try:
        plan = run_ingest(kit.project, source, url=url, retrieved=when,
                          publisher=URIRef(_iri(publisher)) if publisher else None, lang=lang, dry_run=dry_run)
    except IngestRefused as exc:
        _fail(exc.message, exc.exit_code)
    click.echo(summary(plan, kit.project, dry_run=dry_run), nl=False)
    if dry_run and plan.trig_text:
        click.echo(f"--- {kit.project.relative(next(p for p in plan.files if p.suffix == '.trig'))} (would be written)")
        click.echo(plan.trig_text, nl=False)
    if plan.violations:
        from .ingest import refusal
        click.echo("error: " + refusal(plan), err=True)
    sys.exit(1 if plan.changes or plan.violations else 0)


@cli.command("ingest-pages")
@click.argument("records", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a generated file is not up to date.")
@click.pass_context
@handle_errors
def ingest_pages(ctx: click.Context, records: tuple[Path, ...], dry_run: bool, check: bool) -> None:
    """Turn page records (data/pages/*.yaml: the facts a curator transcribed from a stored public
    page) into data/ingested/page-KEY.trig, each fact in the graph of its page.

    Without RECORDS, every record (and a generated file whose record is gone is removed). The same
    records give the same bytes. Exit 0 done or up to date, 1 the result would fail the shapes or
    (--check) a file is not up to date, 2 a record cannot be read (file, line and field named).
    """
    from .records import apply_pages, pages_summary, plan_pages
    kit = _toolkit(ctx)
    plan = plan_pages(kit.project, list(records) or None)
    quiet = dry_run or check
    if not quiet and not plan.violations:
        apply_pages(plan)
    click.echo(pages_summary(plan, kit.project, dry_run=quiet), nl=False)
    if plan.violations:
        click.echo("error: the records would make the graph fail its shapes; nothing was written", err=True)
        sys.exit(1)
    if check and (plan.files or plan.stale):
        click.echo("error: generated files are not up to date: run `coopgraph ingest-pages`", err=True)
        sys.exit(1)


@cli.command("release")
@click.argument("version")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder that holds the releases. Default: releases/ in the project.")
@click.option("--date", "date", default=None, metavar="YYYY-MM-DD",
              help="Release date, written into the description and the changelog. Default: today.")
@click.pass_context
@handle_errors
def release_cmd(ctx: click.Context, version: str, out_dir: Path | None, date: str | None) -> None:
    """Write a versioned release: dumps, dataset description, validation report, SHA256SUMS and
    a changelog entry, into releases/VERSION/ (VERSION such as 1.0.0).

    Refuses (exit 1) when the folder exists or the graph does not conform. Rebuilt from the same
    sources with the same --date, a release is byte-identical.
    """
    from .release import release as run_release
    kit = _toolkit(ctx)
    when = _date(date, "--date")
    if when is None:
        import datetime
        when = datetime.date.today()
        click.echo(f"release date: {when.isoformat()} (today; give --date to rebuild a release byte for byte)", err=True)
    result = run_release(kit.project, version, date=when, out_dir=out_dir, toolkit=kit)
    click.echo(result.entry, nl=False)
    click.echo(f"written: {kit.project.relative(result.folder)}/ "
               f"({len(result.files)} files, {sum(result.files.values()):,} bytes)")
    for name, size in sorted(result.files.items()):
        click.echo(f"  {name}  ({size:,} bytes)")
    click.echo(f"verify: cd {kit.project.relative(result.folder)} && sha256sum -c SHA256SUMS")


@cli.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--patch", "patch_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the patch (deleted and added statements) to this file.")
@click.option("--patch-format", type=click.Choice(["rdf-patch", "sparql"]), default="rdf-patch", show_default=True,
              help="rdf-patch: RDF Patch rows (A/D); sparql: a SPARQL 1.1 Update (DELETE DATA; INSERT DATA).")
@click.option("--exit-code", is_flag=True, help="Exit 1 when the two differ (like diff(1)).")
@click.pass_context
@handle_errors
def diff_cmd(ctx: click.Context, old: Path, new: Path, patch_file: Path | None, patch_format: str,
             exit_code: bool) -> None:
    """What changed from OLD to NEW (build folders, release folders or dump files): each entity
    added, removed or changed, with its changed properties, and optionally a patch."""
    from .diff import diff_paths, patch, report
    result = diff_paths(old, new)
    click.echo(report(result), nl=False)
    if patch_file is not None:
        text = patch(result, patch_format)
        export.write_atomic(patch_file, text)
        click.echo(f"patch: {patch_file} ({len(result.deleted)} deleted, {len(result.added)} added, {patch_format})",
                   err=True)
    sys.exit(1 if exit_code and not result.unchanged else 0)
@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=30.0, show_default=True,
              help="Seconds a query may run; past that its worker is killed and the client gets 503.")
@click.option("--max-rows", type=click.IntRange(1), default=10_000, show_default=True,
              help="Most rows (or triples) a result may have; a larger one is refused (422), never cut.")
@click.option("--max-body", type=click.IntRange(1), default=1_000_000, show_default=True,
              help="Largest request body accepted, in bytes (413 past it).")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Query worker processes (each holds the dataset; queries run in parallel).")
@click.option("--base-url", default=None, metavar="URL",
              help="Public address for links and the service description, e.g. https://example.org/coopgraph/ "
                   "(default: the address each request came to).")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]),
              default="info", show_default=True)
@click.option("--store", "store_kind", type=click.Choice(STORES), default=None,
              help="As `coopgraph --store` (given here, it wins): oxigraph (default) serves from an on-disk "
                   "store the query workers open read-only; memory: rdflib, each worker parses the data.")
@click.option("--store-path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="As `coopgraph --store-path`: the on-disk Oxigraph store to serve (built if missing or "
                   "stale, reused otherwise). Default: .coopgraph-cache/store in the project.")
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str, port: int, timeout: float, max_rows: int, max_body: int, workers: int,
          base_url: str | None, log_level: str, store_kind: str | None, store_path: Path | None) -> None:
    """Serve the graph: a read-only SPARQL endpoint, entity pages and dumps, from one process.

    /sparql is the SPARQL 1.1 endpoint; /id/... IRIs answer 303 to their document; / is the home
    page with a query form. The graph is served from an on-disk Oxigraph store (--store-path, or
    .coopgraph-cache/store in the project), built on the first start and reused while the sources
    are unchanged. Stop with Ctrl-C.
    """
    from .serve import run, serve_toolkit
    if base_url and not base_url.startswith(("http://", "https://")):
        raise InputError(f"--base-url {base_url}: give an absolute http(s) URL")
    kit = _toolkit(ctx)
    if store_kind is not None:
        kit.store_kind = store_kind
    if store_path is not None:
        kit.store_path = store_path
    run(serve_toolkit(kit), host=host, port=port, base_url=base_url, timeout=timeout, max_rows=max_rows,
        max_body=max_body, workers=workers, log_level=log_level)

@cli.command()
@click.argument("other", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["sssom", "csv", "ttl", "nt", "jsonld"]), default="sssom",
              show_default=True, help="sssom: an SSSOM candidate set (TSV) to review and accept; csv: a table for a "
                                      "spreadsheet; ttl/nt/jsonld: the candidates as SSSOM RDF.")
@click.option("--type", "family", type=click.Choice(["Organization", "Person", "Place", "Event"]), default=None,
              help="Match only entities of this type.")
@click.option("--min-score", type=click.FloatRange(0, 1), default=None,
              help="Report candidates at or above this score. Default: the match threshold (precision first); "
                   "lower it (e.g. 0.5) to review near misses.")
@click.option("--column", "columns", multiple=True, metavar="ROLE=COLUMN",
              help="CSV input: which column holds a role (id, name, alternate_names, type, city, country, date, "
                   "affiliation, same_as), e.g. --column name=org_name. Repeatable.")
@click.option("--id-prefix", default=None, metavar="NAME=IRI",
              help="CSV input: namespace for ids that are not IRIs, e.g. partner=https://example.org/partners/.")
@click.option("--limit", type=click.IntRange(1, 20), default=3, show_default=True,
              help="At most this many candidates per record.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (atomically) instead of standard output.")
@click.pass_context
@handle_errors
def link(ctx: click.Context, other: Path, fmt: str, family: str | None, min_score: float | None,
         columns: tuple[str, ...], id_prefix: str | None, limit: int, output: Path | None) -> None:
    """Find candidate links between our entities and another dataset (RDF file or CSV with a header).

    Every candidate is scored (0 to 1) and explained. Pairs a mapping set in data/mappings/ already
    accepts or rejects are left out. Review the output, then accept rows with `coopgraph accept`.
    """
    from . import link as linking
    kit = _toolkit(ctx)
    roles = {}
    for item in columns:
        role, sep, col = item.partition("=")
        if not sep or not role or not col:
            raise InputError(f"--column {item!r}: write ROLE=COLUMN, e.g. name=org_name")
        roles[role.strip()] = col.strip()
    matcher = linking.matcher_for(kit.loaded.union())
    data = linking.read_other(other, loader=kit.loader, columns=roles, id_prefix=id_prefix, matcher=matcher)
    threshold = linking.MATCH_THRESHOLD if min_score is None else min_score
    result = linking.discover(matcher, data, family=family, min_score=threshold,
                              decided=linking.decided_pairs(kit.project.data_dir), limit=limit)
    text = linking.render(result, fmt)
    confident = sum(1 for _r, c in result.rows if c.match)
    click.echo(f"{len(data.records)} records read from {other}; {len(result.rows)} candidates at or above "
               f"{threshold} ({confident} at or above the match threshold {linking.MATCH_THRESHOLD})"
               + (f"; {result.known} already decided in data/mappings/" if result.known else ""), err=True)
    _emit(text, output)


@cli.command()
@click.argument("candidates", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--into", "into", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The mapping set to append to, e.g. data/mappings/partners.sssom.tsv (created if absent: "
                   "then give --source).")
@click.option("--row", "rows", multiple=True, type=click.IntRange(1), help="Accept this candidate (1 = the first "
              "row under the header). Repeatable.")
@click.option("--min-score", type=click.FloatRange(0, 1), default=None,
              help="Accept every candidate at or above this score (default without --row: the match threshold).")
@click.option("--reviewer", required=True, help="Who reviewed the candidates (recorded as reviewer_label).")
@click.option("--reviewer-id", default=None, help="The reviewer as a CURIE, e.g. orcid:0000-0002-... (prefix in the set's curie_map).")
@click.option("--predicate", default=None, type=click.Choice(["skos:exactMatch", "skos:closeMatch", "skos:broadMatch",
              "skos:narrowMatch", "skos:relatedMatch"]), help="Record this predicate instead of the candidate's.")
@click.option("--reject", is_flag=True, help="Record the rows as rejected (predicate_modifier Not): no link, "
              "and `coopgraph link` stops proposing them.")
@click.option("--source", default=None, metavar="KEY", help="New set only: the source (src:KEY in data/sources.trig) "
              "whose graph holds the links.")
@click.option("--identity", is_flag=True, help="New set only: the target names the very same things, so "
              "skos:exactMatch is also built as schema:sameAs.")
@click.option("--date", default=None, metavar="YYYY-MM-DD", help="mapping_date of the accepted rows (default: today).")
@click.pass_context
@handle_errors
def accept(ctx: click.Context, candidates: Path, into: Path, rows: tuple[int, ...], min_score: float | None,
           reviewer: str, reviewer_id: str | None, predicate: str | None, reject: bool, source: str | None,
           identity: bool, date: str | None) -> None:
    """Accept reviewed candidates from `coopgraph link` into a mapping set (one atomic append).

    Duplicates and conflicts (a pair already accepted or rejected, two identities for one entity)
    are refused and nothing is written. Rebuild with `coopgraph build` to get the links in the graph.
    """
    from . import link as linking
    kit = _toolkit(ctx)
    if rows and min_score is not None:
        raise InputError("give --row or --min-score, not both")
    result = linking.accept(kit.project, candidates, into, rows=list(rows) or None, min_score=min_score,
                            reviewer=reviewer, reviewer_id=reviewer_id, predicate=predicate, reject=reject,
                            source=source, identity=identity, date=date)
    verb = "rejected" if reject else "accepted"
    click.echo(f"{verb} {len(result.rows)} mapping{'s' if len(result.rows) != 1 else ''} into {into}"
               + (" (new mapping set)" if result.created else ""))
    for row in result.rows:
        click.echo(f"  {row['subject_id']} {row['predicate_id']} {row['object_id']}  ({row.get('confidence') or '-'})")


def _emit(text: str, output: Path | None) -> None:
    """Write ``text`` to ``output`` atomically (saying so on stderr), or to standard output."""
    if output:
        export.write_atomic(output, text)
        click.echo(f"wrote {output} ({len(text.encode('utf-8')):,} bytes)", err=True)
    else:
        click.echo(text, nl=False)


def _iri(text: str) -> str:
    try:
        return queries.expand_curie(text)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _terminated(signum, frame) -> None:
    """SIGTERM: unwind (so temporary files and staging folders are removed), exit 143."""
    sys.exit(128 + signum)


def main() -> None:
    """Entry point of the coopgraph command."""
    import signal
    signal.signal(signal.SIGTERM, _terminated)
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = ["cli", "main", "EXIT_BAD_INPUT", "class_counts"]
