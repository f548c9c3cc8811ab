"""`hopcheck lsp` under a strict client: pytest-lsp, whose client (pygls) turns every message from the
server into the LSP types of lsprotocol and fails the test on any that does not fit.

tests/lsp.rs runs this file with the Python of a virtual environment under target/, with HOPCHECK_BIN
(the binary), HOPCHECK_SHOP (a copy of fixtures/projects/shop) and HOPCHECK_FIX (fixtures/fix) set. Each test starts its own server
on its own copy of the shop. Every wait is bounded by WAIT seconds.
"""

import asyncio
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcMethodNotFound
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

BIN = os.environ["HOPCHECK_BIN"]
SHOP = Path(os.environ["HOPCHECK_SHOP"])
FIX = Path(os.environ["HOPCHECK_FIX"])
USERS = "src/routes/users.rs"
ORDERS = "src/routes/orders.rs"
WAIT = 10.0

pytestmark = [
    pytest.mark.asyncio,
    # A result that breaks the client's stated capabilities fails the test.
    pytest.mark.filterwarnings("error::pytest_lsp.checks.LspSpecificationWarning"),
]

# What a typical editor announces: the checks of pytest-lsp run against these.
CAPABILITIES = types.ClientCapabilities(
    text_document=types.TextDocumentClientCapabilities(
        synchronization=types.TextDocumentSyncClientCapabilities(did_save=True),
        hover=types.HoverClientCapabilities(
            content_format=[types.MarkupKind.Markdown, types.MarkupKind.PlainText]
        ),
        publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
            related_information=True, code_description_support=True, data_support=True
        ),
        code_action=types.CodeActionClientCapabilities(
            code_action_literal_support=types.ClientCodeActionLiteralOptions(
                code_action_kind=types.ClientCodeActionKindOptions(
                    value_set=[types.CodeActionKind.QuickFix]
                )
            ),
            is_preferred_support=True,
            data_support=True,
        ),
        code_lens=types.CodeLensClientCapabilities(),
    ),
    workspace=types.WorkspaceClientCapabilities(workspace_folders=True),
    general=types.GeneralClientCapabilities(
        position_encodings=[types.PositionEncodingKind.Utf16]
    ),
)


def make_client() -> LanguageClient:
    """pytest-lsp's client, which also keeps every publishDiagnostics in order of arrival."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = []

    # pygls passes the client to a handler whose first parameter is annotated with its type.
    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams):
        client.diagnostics[params.uri] = params.diagnostics
        client.published.append(params)

    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish
    register_lsp_features(client, features)
    return client


CONFIG = ClientServerConfig(server_command=[BIN, "lsp"], client_factory=make_client)


@pytest.fixture
def shop(tmp_path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(SHOP, root)
    return root.resolve()


async def initialize(client: LanguageClient, root: Path) -> types.InitializeResult:
    params = types.InitializeParams(
        capabilities=CAPABILITIES,
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="shop")],
    )
    return await asyncio.wait_for(client.initialize_session(params), WAIT)


def kill_if_running(client: LanguageClient):
    server = client._server
    if server is not None and server.returncode is None:
        server.kill()


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient, shop: Path):
    # A server that does not answer is killed, so that nothing waits for it.
    try:
        lsp_client.initialize_result = await initialize(lsp_client, shop)
        yield
        await asyncio.wait_for(lsp_client.shutdown_session(), WAIT)
    finally:
        kill_if_running(lsp_client)


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def uri(root: Path, rel: str) -> str:
    return (root / rel).as_uri()


def open_file(client: LanguageClient, root: Path, rel: str, text: str | None = None, language="rust"):
    if text is None:
        text = (root / rel).read_text(encoding="utf-8")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri(root, rel), language_id=language, version=1, text=text
            )
        )
    )


def change_file(client: LanguageClient, root: Path, rel: str, version: int, text: str):
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri(root, rel), version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def save_file(client: LanguageClient, root: Path, rel: str, text: str):
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri(root, rel)), text=text
        )
    )


async def until(what: str, condition, timeout: float = WAIT):
    """Waits until `condition()` holds, polling; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


async def diagnostics_of(client: LanguageClient, file_uri: str, what: str, condition=None):
    """The diagnostics published for a file, once they are there (and satisfy `condition`)."""

    def ready():
        got = client.diagnostics.get(file_uri)
        return got is not None and (condition is None or condition(got))

    await until(what, ready)
    return list(client.diagnostics[file_uri])


def cli_findings(root: Path) -> dict[str, list[dict]]:
    """What `hopcheck check --format json` reports for the same project, per file."""
    out = subprocess.run(
        [BIN, "check", "--format", "json", str(root)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    report = json.loads(out.stdout)
    by_file: dict[str, list[dict]] = {}
    for d in report["diagnostics"]:
        if "suppressed" not in d:
            by_file.setdefault(d["file"], []).append(d)
    return by_file


def as_lsp(d: dict) -> tuple:
    """A finding of the JSON report (1-based lines and columns, end exclusive) as LSP coordinates."""
    severity = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}
    return (
        d["lint"],
        severity[d["severity"]],
        d["line"] - 1,
        d["column"] - 1,
        d["end_line"] - 1,
        d["end_column"] - 1,
    )


def same_as_cli(got, expected: list[dict]) -> bool:
    """Whether published diagnostics are the command line's findings: places, lints, severities and
    messages (the published message adds the help)."""
    mine = sorted((summary(d), d.message) for d in got)
    theirs = sorted((as_lsp(d), d["message"]) for d in expected)
    return len(mine) == len(theirs) and all(
        a == b and message.startswith(cli) for (a, message), (b, cli) in zip(mine, theirs)
    )


def summary(d: types.Diagnostic) -> tuple:
    r = d.range
    return (d.code, d.severity, r.start.line, r.start.character, r.end.line, r.end.character)


def with_extra_queries(text: str, count: int) -> str:
    """users.rs with `count` more independent queries after the handler's second round trip."""
    anchor = "    let orders = db::orders_for("
    at = text.index(anchor)
    at = text.index("\n", at) + 1
    lines = "".join(
        f'    let _n{i}: i64 = sqlx::query_scalar("SELECT {i}").fetch_one(&state.db).await'
        ".map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;\n"
        for i in range(count)
    )
    return text[:at] + lines + text[at:]


def sequential_count(diagnostics) -> int | None:
    for d in diagnostics:
        if d.code == "sequential-queries":
            return int(d.message.split(" ", 1)[0])
    return None


# ------------------------------------------------------------------------------------------------
# (a) Diagnostics on open
# ------------------------------------------------------------------------------------------------


async def test_open_publishes_the_findings_of_the_file(client: LanguageClient, shop: Path):
    sync = client.initialize_result.capabilities.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions)
    assert sync.change == types.TextDocumentSyncKind.Full
    assert sync.open_close is True

    open_file(client, shop, USERS)
    got = await diagnostics_of(client, uri(shop, USERS), "diagnostics of users.rs", bool)

    expected = cli_findings(shop)[USERS]
    assert sorted(summary(d) for d in got) == sorted(as_lsp(d) for d in expected)
    assert [d.source for d in got] == ["hopcheck"] * len(got)
    for d in got:
        cli = next(e for e in expected if e["lint"] == d.code)
        assert d.message.startswith(cli["message"]), (d.message, cli["message"])
        assert d.code_description is not None
        assert d.code_description.href.endswith(f"/lints/{d.code}")
    # The sequential finding points at its other round trips, in the same file.
    sequential = next(d for d in got if d.code == "sequential-queries")
    related = sorted(r.location.range.start.line for r in sequential.related_information)
    cli = next(e for e in expected if e["lint"] == "sequential-queries")
    assert related == sorted(r["line"] - 1 for r in cli["related"])
    assert {r.location.uri for r in sequential.related_information} == {uri(shop, USERS)}

    # Only open files get diagnostics, and closing one clears them.
    assert set(client.diagnostics) == {uri(shop, USERS)}
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri(shop, USERS)))
    )
    await diagnostics_of(client, uri(shop, USERS), "users.rs's diagnostics to clear", lambda ds: not ds)


async def test_ranges_count_utf16_code_units(client: LanguageClient, shop: Path):
    # A comment with characters outside ASCII (one of them two UTF-16 units) before the round trip.
    text = (shop / USERS).read_text(encoding="utf-8").replace(
        "let orders = db::orders_for(", "let orders = /* é 😀 */ db::orders_for(", 1
    )
    on_disk = shop.parent / "utf16"
    shutil.copytree(shop, on_disk)
    (on_disk / USERS).write_text(text, encoding="utf-8")
    cli = next(d for d in cli_findings(on_disk)[USERS] if d["lint"] == "sequential-queries")

    open_file(client, shop, USERS, text)
    got = await diagnostics_of(client, uri(shop, USERS), "diagnostics of users.rs", bool)
    sequential = next(d for d in got if d.code == "sequential-queries")
    line = text.splitlines()[cli["line"] - 1]

    def utf16(column: int) -> int:
        return len(line[: column - 1].encode("utf-16-le")) // 2

    r = sequential.range
    assert (r.start.line, r.start.character, r.end.line, r.end.character) == (
        cli["line"] - 1,
        utf16(cli["column"]),
        cli["end_line"] - 1,
        utf16(cli["end_column"]),
    )
    # The test means something: 😀 is one character but two UTF-16 units.
    assert utf16(cli["column"]) == (cli["column"] - 1) + 1


# ------------------------------------------------------------------------------------------------
# (b) A file that does not parse
# ------------------------------------------------------------------------------------------------


async def test_a_file_that_does_not_parse_gets_a_parse_error_and_the_rest_still_works(
    client: LanguageClient, shop: Path
):
    good = (shop / ORDERS).read_text(encoding="utf-8")
    lines = good.splitlines(keepends=True)
    broken_line = next(i for i, l in enumerate(lines) if l.startswith("async fn show_order("))
    # The buffer, not the file on disk, is broken: an unclosed parameter list.
    lines[broken_line] = lines[broken_line].replace("Path<i64>)", "Path<i64>", 1)
    broken = "".join(lines)
    assert broken != good

    open_file(client, shop, USERS)
    open_file(client, shop, ORDERS, broken)
    orders = await diagnostics_of(
        client,
        uri(shop, ORDERS),
        "a parse-error on orders.rs",
        lambda ds: any(d.code == "parse-error" for d in ds),
    )
    assert [d.code for d in orders] == ["parse-error"]
    error = orders[0]
    assert error.source == "hopcheck"
    assert error.message.startswith("cannot parse this file")
    # Where the command line puts it for the same text on disk.
    on_disk = shop.parent / "broken"
    shutil.copytree(shop, on_disk)
    (on_disk / ORDERS).write_text(broken, encoding="utf-8")
    cli = cli_findings(on_disk)[ORDERS]
    assert [summary(error)] == [as_lsp(d) for d in cli]
    assert error.range.start.line == broken_line

    # The other open file is still analysed as before.
    users = await diagnostics_of(client, uri(shop, USERS), "diagnostics of users.rs", bool)
    assert sorted(summary(d) for d in users) == sorted(
        as_lsp(d) for d in cli_findings(shop)[USERS]
    )

    # Mending the buffer brings back the file's own findings.
    change_file(client, shop, ORDERS, 2, good)
    orders = await diagnostics_of(
        client,
        uri(shop, ORDERS),
        "orders.rs's findings after the fix",
        lambda ds: bool(ds) and all(d.code != "parse-error" for d in ds),
    )
    assert sorted(summary(d) for d in orders) == sorted(
        as_lsp(d) for d in cli_findings(shop)[ORDERS]
    )


# ------------------------------------------------------------------------------------------------
# (c) A configuration error
# ------------------------------------------------------------------------------------------------


async def test_a_config_error_is_a_diagnostic_on_the_toml_until_fixed(client: LanguageClient, shop: Path):
    toml = shop / "hopcheck.toml"
    good = toml.read_text(encoding="utf-8")
    bad = good.replace('primary = "eu-central-1"', 'primary = "eu-central-9"', 1)
    assert bad != good
    bad_line = next(i for i, l in enumerate(bad.splitlines()) if "eu-central-9" in l)
    toml.write_text(bad, encoding="utf-8")
    toml_uri = toml.as_uri()

    open_file(client, shop, "hopcheck.toml", bad, language="toml")
    save_file(client, shop, "hopcheck.toml", bad)
    await diagnostics_of(client, toml_uri, "the config error", bool)
    # It stays: nothing published for the open file clears it.
    await asyncio.sleep(0.5)
    for_toml = [p.diagnostics for p in client.published if p.uri == toml_uri]
    assert all(for_toml), for_toml
    got = client.diagnostics[toml_uri]
    assert len(got) == 1, got
    error = got[0]
    assert error.severity == types.DiagnosticSeverity.Error
    assert error.source == "hopcheck"
    assert error.code == "config"
    assert "unknown region `eu-central-9`" in error.message
    assert error.range.start.line == bad_line, (bad_line, error.range)
    line_text = bad.splitlines()[bad_line]
    start, end = error.range.start.character, error.range.end.character
    assert "eu-central-9" in line_text[start:end], (line_text, error.range)

    # Rust files are still analysed meanwhile (with the default topology), and the error stays.
    open_file(client, shop, USERS)
    await diagnostics_of(client, uri(shop, USERS), "diagnostics of users.rs", bool)
    await asyncio.sleep(0.5)
    for_toml = [p.diagnostics for p in client.published if p.uri == toml_uri]
    assert all(for_toml), for_toml

    # Fixing the file, in the buffer and then on disk, clears the diagnostic.
    change_file(client, shop, "hopcheck.toml", 2, good)
    toml.write_text(good, encoding="utf-8")
    save_file(client, shop, "hopcheck.toml", good)
    await diagnostics_of(client, toml_uri, "the config error to clear", lambda ds: len(ds) == 0)
    # And the project's own topology is back (its two deployments are priced again).
    expected = cli_findings(shop)[USERS]
    await diagnostics_of(
        client,
        uri(shop, USERS),
        "users.rs priced on the shop's topology",
        lambda ds: same_as_cli(ds, expected),
    )


# ------------------------------------------------------------------------------------------------
# (d) Rapid edits
# ------------------------------------------------------------------------------------------------


async def test_rapid_edits_end_with_the_diagnostics_of_the_last_text(client: LanguageClient, shop: Path):
    text = (shop / USERS).read_text(encoding="utf-8")
    users_uri = uri(shop, USERS)
    open_file(client, shop, USERS, text)
    first = await diagnostics_of(client, users_uri, "diagnostics of users.rs", bool)
    assert sequential_count(first) == 3

    # Ten edits in a row; only the last one has four more queries (7 sequential round trips).
    before = len(client.published)
    for version in range(2, 12):
        extra = 4 if version == 11 else version % 3
        change_file(client, shop, USERS, version, with_extra_queries(text, extra))
    final = await diagnostics_of(
        client, users_uri, "7 sequential round trips", lambda ds: sequential_count(ds) == 7
    )
    # Nothing stale arrives after it.
    await asyncio.sleep(0.6)
    assert sequential_count(client.diagnostics[users_uri]) == 7
    for_users = [p for p in client.published[before:] if p.uri == users_uri]
    assert sequential_count(for_users[-1].diagnostics) == 7
    # The pause before analysing coalesces the burst (one publish per edit would be 10).
    assert len(for_users) <= 5, [sequential_count(p.diagnostics) for p in for_users]
    # And it is right: the new queries are where the text has them.
    lines = with_extra_queries(text, 4).splitlines()
    sequential = next(d for d in final if d.code == "sequential-queries")
    assert "db::orders_for(" in lines[sequential.range.start.line]


# ------------------------------------------------------------------------------------------------
# (e) Hover, code lens and code actions are valid LSP results
# ------------------------------------------------------------------------------------------------


async def test_hover_lens_and_actions_are_valid_lsp_results(client: LanguageClient, shop: Path):
    users_uri = uri(shop, USERS)
    open_file(client, shop, USERS)
    got = await diagnostics_of(client, users_uri, "diagnostics of users.rs", bool)
    over = next(d for d in got if d.code == "over-budget")
    doc = types.TextDocumentIdentifier(uri=users_uri)

    # On the handler's `fn` line.
    hover = await asyncio.wait_for(
        client.text_document_hover_async(
            types.HoverParams(text_document=doc, position=over.range.start)
        ),
        WAIT,
    )
    assert isinstance(hover, types.Hover)
    assert isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert "`GET /users/{id}`" in hover.contents.value
    assert "Round trips, in order:" in hover.contents.value
    for n in (1, 2, 3):
        assert f"\n{n}. `sqlx::" in hover.contents.value, hover.contents.value

    # Nowhere special: no hover.
    nothing = await asyncio.wait_for(
        client.text_document_hover_async(
            types.HoverParams(text_document=doc, position=types.Position(line=0, character=0))
        ),
        WAIT,
    )
    assert nothing is None

    # On an awaited round trip (db.rs holds the queries).
    db_uri = uri(shop, "src/db.rs")
    db = (shop / "src/db.rs").read_text(encoding="utf-8").splitlines()
    line = next(i for i, l in enumerate(db) if ".fetch_all(db)" in l)
    open_file(client, shop, "src/db.rs")
    trip = await asyncio.wait_for(
        client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=db_uri),
                position=types.Position(line=line, character=db[line].index("fetch_all") + 2),
            )
        ),
        WAIT,
    )
    assert isinstance(trip, types.Hover)
    assert "**round trip**" in trip.contents.value
    assert "main (primary)" in trip.contents.value
    assert "eu-central-1" in trip.contents.value
    assert "SELECT id, user_id, total_cents FROM orders" in trip.contents.value

    lenses = await asyncio.wait_for(
        client.text_document_code_lens_async(types.CodeLensParams(text_document=doc)), WAIT
    )
    assert lenses is not None and len(lenses) == 1, lenses
    lens = lenses[0]
    assert isinstance(lens, types.CodeLens)
    assert lens.range.start.line == over.range.start.line
    assert lens.command is not None
    assert lens.command.title == (
        "3 round trips · ≈ 557 ms from us-east-1 (over) · ≈ 6 ms from eu-central-1 · budget 500 ms"
    )

    actions = await asyncio.wait_for(
        client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=doc,
                range=over.range,
                context=types.CodeActionContext(diagnostics=[over]),
            )
        ),
        WAIT,
    )
    assert actions is not None
    assert all(isinstance(a, types.CodeAction) for a in actions)
    allow = [a for a in actions if a.title == "Allow `over-budget` here, with a reason"]
    assert len(allow) == 1, [a.title for a in actions]
    allow = allow[0]
    assert allow.kind == types.CodeActionKind.QuickFix
    assert [d.code for d in allow.diagnostics] == ["over-budget"]
    edits = allow.edit.changes[users_uri]
    assert len(edits) == 1
    at = types.Position(line=over.range.start.line, character=0)
    assert edits[0].range == types.Range(start=at, end=at)
    assert edits[0].new_text == "// hopcheck: allow(over-budget) <why this is fine>\n"

    # A method the server does not offer is answered with an error, and the server goes on.
    with pytest.raises(JsonRpcMethodNotFound):
        await asyncio.wait_for(
            client.text_document_definition_async(
                types.DefinitionParams(text_document=doc, position=over.range.start)
            ),
            WAIT,
        )
    again = await asyncio.wait_for(
        client.text_document_code_lens_async(types.CodeLensParams(text_document=doc)), WAIT
    )
    assert len(again) == 1


# ------------------------------------------------------------------------------------------------
# (f) Shutdown and exit
# ------------------------------------------------------------------------------------------------


async def test_shutdown_then_exit_ends_the_process_with_status_0(shop: Path):
    client = await CONFIG.start()
    try:
        await initialize(client, shop)
        open_file(client, shop, USERS)
        await diagnostics_of(client, uri(shop, USERS), "diagnostics of users.rs", bool)
        assert await asyncio.wait_for(client.shutdown_async(None), WAIT) is None
        client.exit(None)
        code = await asyncio.wait_for(client._server.wait(), 5.0)
        assert code == 0
    finally:
        kill_if_running(client)
        await client.stop()


async def test_exit_without_shutdown_ends_the_process_with_status_1(shop: Path):
    client = await CONFIG.start()
    try:
        await initialize(client, shop)
        client.exit(None)
        code = await asyncio.wait_for(client._server.wait(), 5.0)
        assert code == 1
    finally:
        kill_if_running(client)
        await client.stop()


async def test_the_quick_fix_joins_two_independent_reads(tmp_path: Path):
    """The code action for `sequential-queries` on the fix fixture is the `try_join!` that `hopcheck fix`
    makes; applied to the buffer, the finding goes away."""
    root = tmp_path / "fix"
    shutil.copytree(FIX, root, ignore=shutil.ignore_patterns("target"))
    root = root.resolve()
    rel = "src/lib.rs"
    client = await CONFIG.start()
    try:
        await initialize(client, root)
        file_uri = uri(root, rel)
        text = (root / rel).read_text(encoding="utf-8")
        open_file(client, root, rel, text)
        got = await diagnostics_of(client, file_uri, "diagnostics of the fix fixture", bool)
        runs = [d for d in got if d.code == "sequential-queries"]
        assert runs, [summary(d) for d in got]
        first = min(runs, key=lambda d: d.range.start.line)
        actions = await asyncio.wait_for(
            client.text_document_code_action_async(
                types.CodeActionParams(
                    text_document=types.TextDocumentIdentifier(uri=file_uri),
                    range=first.range,
                    context=types.CodeActionContext(diagnostics=[first]),
                )
            ),
            WAIT,
        )
        fix = next(a for a in actions if isinstance(a, types.CodeAction) and "try_join!" in a.title)
        assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
        edits = fix.edit.changes[file_uri]
        # Apply the edits (LSP positions: 0-based lines, UTF-16 columns; the fixture is ASCII).
        lines = text.split("\n")
        offsets = [0]
        for line in lines:
            offsets.append(offsets[-1] + len(line) + 1)
        fixed = text
        for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
            start = offsets[e.range.start.line] + e.range.start.character
            end = offsets[e.range.end.line] + e.range.end.character
            fixed = fixed[:start] + e.new_text + fixed[end:]
        assert "try_join!(" in fixed and fixed != text
        change_file(client, root, rel, 2, fixed)
        line = first.range.start.line
        await until(
            "the joined reads to leave no sequential-queries finding on their line",
            lambda: not any(
                d.code == "sequential-queries" and d.range.start.line == line
                for d in client.diagnostics.get(file_uri, [])
            ),
        )
        # The same rewrite as the command line's for that pair.
        cli_copy = tmp_path / "fix-cli"
        shutil.copytree(FIX, cli_copy, ignore=shutil.ignore_patterns("target"))
        subprocess.run([BIN, "fix", str(cli_copy)], check=True, capture_output=True, timeout=60)
        joined = [l for l in fixed.split("\n") if "try_join!(" in l]
        assert joined and joined[0] in (cli_copy / rel).read_text(encoding="utf-8")
    finally:
        kill_if_running(client)
        await client.stop()


async def test_a_config_changed_outside_the_editor_is_read_again(client: LanguageClient, shop: Path):
    """hopcheck.toml edited on disk (not open): the watched-files notification re-prices the routes."""
    users_uri = uri(shop, USERS)
    open_file(client, shop, USERS)
    await diagnostics_of(
        client, users_uri, "the over-budget finding", lambda ds: any(d.code == "over-budget" for d in ds)
    )
    toml = shop / "hopcheck.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('"500ms"', '"10s"'), encoding="utf-8")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=toml.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    await until(
        "the over-budget finding to go with the 10 s budget",
        lambda: not any(d.code == "over-budget" for d in client.diagnostics.get(users_uri, [])),
    )
