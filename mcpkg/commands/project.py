from __future__ import annotations

from pathlib import Path

import typer

from mcpkg.cli import handle_errors
from mcpkg.commands import JSON_OPTION, PLAIN_HTTP_OPTION, results_printer, set_json, stdout_taken
from mcpkg.ui import emit_json, note

PROJECT_OPTION = typer.Option(None, "--project", "-C", help="Directory of mcpkg.toml (default: here or a parent).")


def _root(project: Path | None) -> Path:
    from mcpkg.project.manifest import find_project

    return find_project(project)


def register(app: typer.Typer) -> None:
    register_compose(app)
    register_run(app)

    @app.command("lock")
    @handle_errors
    def lock_command(
        names: list[str] = typer.Argument(None, metavar="[NAME]...", help="With --update: the entries to move."),
        check: bool = typer.Option(False, "--check", help="Exit 1 if the lock is missing or stale (offline)."),
        update: bool = typer.Option(False, "--update", help="Move NAMEs (default: all) to the newest match."),
        offline: bool = typer.Option(False, "--offline", help="Use only the lock and the cache."),
        project: Path | None = PROJECT_OPTION,
        json_output: bool = JSON_OPTION,
        plain_http: bool = PLAIN_HTTP_OPTION,
    ) -> None:
        """Resolve mcpkg.toml into mcpkg.lock (verified, type-checked, reproducible)."""
        from mcpkg.errors import McpkgError, UsageError
        from mcpkg.project.lock import check_lock, load_project

        set_json(json_output)
        root = _root(project)
        if names and not update:
            raise UsageError("component names are only taken with --update", "mcpkg lock --update NAME...")
        if check:
            reasons = check_lock(load_project(root))
            if json_output and not reasons:
                emit_json({"fresh": True, "reasons": []})
            if reasons:
                raise McpkgError(
                    "the lock is not fresh: " + "; ".join(reasons),
                    "run `mcpkg lock`",
                    {"fresh": False, "reasons": reasons},
                )
            if not json_output:
                print("mcpkg.lock is fresh")
            return
        from mcpkg.context import Context
        from mcpkg.project.lock import lock_project

        ctx = Context.load(plain_http)
        try:
            result = lock_project(ctx, root, update=set(names or []) if update else None, offline=offline)
        finally:
            ctx.close()
        if json_output:
            emit_json({"path": str(result.path), "changed": result.changed, "components": [
                {"name": e.name, "position": e.position, "version": e.version, "digest": e.digest,
                 "layer-digest": e.layer_digest, "signatures": list(e.signatures)} for e in result.lock.entries
            ]})  # fmt: skip
            return
        for entry in result.lock.entries:
            what = entry.path if entry.source == "path" else f"{entry.reference}:{entry.version or '-'}"
            signed = f"  signed by {', '.join(entry.signatures)}" if entry.signatures else ""
            print(f"{entry.name:<24} {entry.position:<9} {what}{signed}")
        note(f"{result.path} {'written' if result.changed else 'unchanged'}")

    @app.command("init")
    @handle_errors
    def init_command(
        transport: str = typer.Option("stdio", "--transport", help="http or stdio."),
        project: Path = typer.Option(Path("."), "--project", "-C", help="Where to write mcpkg.toml."),
    ) -> None:
        """Write a starter mcpkg.toml (never overwrites)."""
        from mcpkg.project.edit import init_manifest

        path = init_manifest(project, transport)
        print(f"wrote {path}")

    @app.command("add")
    @handle_errors
    def add_command(
        name: str = typer.Argument(..., metavar="NAME", help="Component name in mcpkg.toml."),
        ref: str = typer.Argument(..., metavar="REF", help="OCI repository, ns:name, or a local .wasm path."),
        version: str | None = typer.Option(None, "--version", help="Version requirement (cargo syntax)."),
        chain: bool = typer.Option(False, "--chain", help="Append to the chain (the default)."),
        service: bool = typer.Option(False, "--service", help="A service, wired by interface name."),
        transport: bool = typer.Option(False, "--transport", help="Make it the transport."),
        terminal: bool = typer.Option(False, "--terminal", help="Make it the terminal."),
        project: Path | None = PROJECT_OPTION,
        plain_http: bool = PLAIN_HTTP_OPTION,
    ) -> None:
        """Add a component to mcpkg.toml (comments and layout kept), then re-lock."""
        from mcpkg.errors import UsageError
        from mcpkg.project.edit import add_component
        from mcpkg.semver import Requirement

        flags = [
            p
            for p, on in (("chain", chain), ("service", service), ("transport", transport), ("terminal", terminal))
            if on
        ]
        if len(flags) > 1:
            raise UsageError("choose one of --chain, --service, --transport, --terminal")
        if version is not None:
            Requirement.parse(version)
        root = _root(project)
        is_path = ref.endswith(".wasm") or Path(ref).is_file()
        if is_path and version:
            raise UsageError("--version applies to registry components, not to a local path")
        manifest = root / "mcpkg.toml"
        text = add_component(manifest, name, ref, version, flags[0] if flags else "chain", is_path)
        _write_and_relock(root, manifest, text, plain_http)
        print(f"added {name}")

    @app.command("remove")
    @handle_errors
    def remove_command(
        name: str = typer.Argument(..., metavar="NAME"),
        project: Path | None = PROJECT_OPTION,
        plain_http: bool = PLAIN_HTTP_OPTION,
    ) -> None:
        """Remove a component from mcpkg.toml (comments and layout kept), then re-lock."""
        from mcpkg.project.edit import remove_component

        root = _root(project)
        manifest = root / "mcpkg.toml"
        _write_and_relock(root, manifest, remove_component(manifest, name), plain_http)
        print(f"removed {name}")

    @app.command("outdated")
    @handle_errors
    def outdated_command(
        project: Path | None = PROJECT_OPTION,
        json_output: bool = JSON_OPTION,
        plain_http: bool = PLAIN_HTTP_OPTION,
    ) -> None:
        """Newer versions per component: the newest matching the requirement, and the latest."""
        from mcpkg.context import Context
        from mcpkg.project.insight import outdated

        set_json(json_output)
        ctx = Context.load(plain_http)
        try:
            rows = outdated(ctx, _root(project))
        finally:
            ctx.close()
        if json_output:
            emit_json({"components": rows})
            return
        print(f"{'component':<24} {'locked':<12} {'matching':<12} {'latest':<12}")
        for row in rows:
            print(
                f"{row['name']:<24} {row['locked'] or '-':<12} {row['matching'] or '-':<12} {row['latest'] or '-':<12}"
            )

    @app.command("tree")
    @handle_errors
    def tree_command(
        project: Path | None = PROJECT_OPTION,
        json_output: bool = JSON_OPTION,
        plain_http: bool = PLAIN_HTTP_OPTION,
    ) -> None:
        """The locked server: transport -> chain -> terminal, services, and the wiring."""
        from mcpkg.context import Context
        from mcpkg.project.insight import tree

        set_json(json_output)
        ctx = Context.load(plain_http)
        try:
            data, text = tree(ctx, _root(project))
        finally:
            ctx.close()
        if json_output:
            emit_json(data)
        else:
            print(text, end="")


def _write_and_relock(root: Path, manifest: Path, text: str, plain_http: bool) -> None:
    """Write the edited mcpkg.toml and re-lock; if locking fails, put the old file back."""
    from mcpkg.context import Context
    from mcpkg.errors import McpkgError
    from mcpkg.outfile import write_user_file
    from mcpkg.project.lock import lock_project, project_lock

    with project_lock(root):
        original = manifest.read_bytes()
        write_user_file(manifest, text.encode())
        ctx = Context.load(plain_http)
        try:
            lock_project(ctx, root)
        except McpkgError as exc:
            write_user_file(manifest, original)
            exc.message += " (mcpkg.toml was left as it was)"
            raise
        finally:
            ctx.close()


def register_compose(app: typer.Typer) -> None:
    @app.command("compose")
    @handle_errors
    def compose_command(
        output: Path = typer.Option(
            Path("server.wasm"), "--output", "-o", help="Where to write the server (a file, a directory, or -)."
        ),
        locked: bool = typer.Option(False, "--locked", help="Fail if mcpkg.lock is missing or stale."),
        offline: bool = typer.Option(False, "--offline", help="Use only the lock and the cache."),
        project: Path | None = PROJECT_OPTION,
        json_output: bool = JSON_OPTION,
        plain_http: bool = PLAIN_HTTP_OPTION,
    ) -> None:
        """Compose the locked components into one server component (deterministic)."""
        from mcpkg.compose.compose import compose_project
        from mcpkg.context import Context
        from mcpkg.ui import human_size

        set_json(json_output)
        to_stdout = stdout_taken(output, json_output)
        ctx = Context.load(plain_http)
        try:
            if not json_output:
                note("composing (the first validation of a new server compiles it with wasmtime: tens of seconds)")
            result = compose_project(ctx, _root(project), output, locked=locked, offline=offline)
        finally:
            ctx.close()
        if json_output:
            emit_json(result.to_json())
            return
        if result.relocked:
            note("mcpkg.lock was missing or stale and has been rewritten")
        say = results_printer(to_stdout)
        say(f"wrote {result.output} ({result.size} bytes, {human_size(result.size)})")
        say(f"digest:       {result.digest}")
        say("imports the host must provide:")
        for name in result.imports:
            say(f"  {name}")
        say("exports:")
        for name in result.exports:
            say(f"  {name}")


def register_run(app: typer.Typer) -> None:
    @app.command("run")
    @handle_errors
    def run_command(
        server: Path = typer.Argument(Path("server.wasm"), metavar="[SERVER]", help="A composed server (server.wasm)."),
        dirs: list[str] = typer.Option([], "--dir", help="Grant a directory: HOST::GUEST (repeatable)."),
        env: list[str] = typer.Option([], "--env", help="Set an environment variable: K=V (repeatable)."),
        allow_network: bool = typer.Option(False, "--allow-network", help="Grant network access."),
    ) -> None:
        """Run a composed stdio server under wasmtime (stdin/stdout attached; nothing else
        granted unless asked). For an HTTP server, print the `wasmtime serve` command."""
        import sys

        from mcpkg.cache import Cache
        from mcpkg.errors import UsageError
        from mcpkg.infile import readable_file
        from mcpkg.wasm.runner import inspect_server, is_http, parse_dirs, parse_env, run_server, serve_command

        readable_file(server, "server", "compose it first: `mcpkg compose -o server.wasm`")
        cache = Cache.default()
        model, digest = inspect_server(cache, server)
        if is_http(model):
            print(serve_command(server))
            note("an HTTP server: run it with the command above (always keep --addr on 127.0.0.1 unless you mean it)")
            return
        if allow_network:
            raise UsageError(
                "--allow-network cannot be granted by the wasmtime Python embedding mcpkg uses",
                f"run it with the wasmtime CLI instead: wasmtime run -S inherit-network {server}",
            )
        code, prepared = run_server(cache, server, model, digest, parse_dirs(dirs), parse_env(env))
        from mcpkg.ui import detail

        detail(f"{'compiled' if prepared.compiled else 'loaded the cached compiled'} artifact {prepared.artifact}")
        sys.stdout.flush()
        raise typer.Exit(code)
