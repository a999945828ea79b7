"""The ``facegate`` command: parse arguments, call a service, print the result.

Every command that prints a result takes ``--json`` and then prints exactly one
JSON object on stdout. A user error exits with status 2 and prints
``{"error": {"code": ..., "message": ...}}`` (in JSON mode) or a one-line
message on stderr.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape

from .errors import FacegateError, InvalidInput

app = typer.Typer(
    help="facegate: face-recognition boarding for trains and flights.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
persons_app = typer.Typer(help="Enrolled passengers: show, list, export, delete.", no_args_is_help=True)
departures_app = typer.Typer(help="Departures (trains, flights) and their boarding windows.", no_args_is_help=True)
bookings_app = typer.Typer(help="Bookings from the operator's ticketing system.", no_args_is_help=True)
gate_app = typer.Typer(help="Gate decisions.", no_args_is_help=True)
operators_app = typer.Typer(help="Operators (tenants) and what they own.", no_args_is_help=True)
sites_app = typer.Typer(help="Stations and airports, each owned by one operator.", no_args_is_help=True)
gates_app = typer.Typer(help="Registered boarding gates (needed for gate API keys).", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: one operator, one role; shown once, stored hashed.", no_args_is_help=True)
app.add_typer(persons_app, name="persons")
app.add_typer(departures_app, name="departures")
app.add_typer(bookings_app, name="bookings")
app.add_typer(gate_app, name="gate")
app.add_typer(operators_app, name="operators")
app.add_typer(sites_app, name="sites")
app.add_typer(gates_app, name="gates")
app.add_typer(keys_app, name="keys")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


# -- plumbing ---------------------------------------------------------------------


def _facegate():  # type: ignore[no-untyped-def]
    from .services.context import Facegate

    return Facegate()


def _fail(error: FacegateError, as_json: bool) -> NoReturn:
    if as_json:
        print(json.dumps({"error": error.to_dict()}, ensure_ascii=False))
    else:
        err.print(f"[red]error[/red] ({error.code}): {escape(error.message)}")
    raise typer.Exit(2)


def _emit(result: dict[str, Any], as_json: bool, render: Callable[[dict[str, Any]], None] | None = None) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False, default=str, allow_nan=False))
    elif render:
        render(result)
    else:
        for key, value in result.items():
            out.print(f"[bold]{key}[/bold]: {escape(str(value))}")


def _run(as_json: bool, action: Callable[[], dict[str, Any]], render: Callable[[dict[str, Any]], None] | None = None) -> None:
    try:
        result = action()
    except FacegateError as error:
        _fail(error, as_json)
    _emit(result, as_json, render)


def _parse_time(value: str | None, tz: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"Time {value!r} is not ISO 8601 (e.g. 2026-12-03T08:30 or 2026-12-03T08:30+07:00).") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz))


# -- enrollment and persons -----------------------------------------------------


@app.command()
def enroll(
    photos: Annotated[list[Path], typer.Argument(help="One or more photos of the passenger alone.")],
    nik: Annotated[str, typer.Option(help="16-digit NIK.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    operator: Annotated[str, typer.Option(help="Operator the passenger consents to (e.g. KAI).")],
    consent: Annotated[bool, typer.Option("--consent", help="The passenger gave explicit consent.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Enroll a passenger (NIK, name, photos, consent)."""
    from .services.enrollment import enroll as do_enroll

    _run(as_json, lambda: do_enroll(_facegate(), nik, name, list(photos), operator=operator, consent=consent).summary())


@persons_app.command("show")
def persons_show(
    person_id: Annotated[Optional[str], typer.Argument(help="Person id.")] = None,
    nik: Annotated[Optional[str], typer.Option(help="Find by NIK instead of id.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show one person (NIK masked)."""
    from .services import persons

    def action() -> dict[str, Any]:
        fg = _facegate()
        if bool(nik) == bool(person_id):
            raise InvalidInput("Give either a person id or --nik, not both.")
        pid = persons.find(fg, nik) if nik else person_id
        return persons.show(fg, pid).summary()

    _run(as_json, action)


@persons_app.command("list")
def persons_list(
    limit: int = typer.Option(50, min=1, max=1000), offset: int = typer.Option(0, min=0), as_json: JsonFlag = False
) -> None:
    """List enrolled persons (NIK masked)."""
    from .services import persons

    def action() -> dict[str, Any]:
        total, people = persons.list_persons(_facegate(), limit, offset)
        return {"total": total, "persons": [p.summary() for p in people]}

    def render(result: dict[str, Any]) -> None:
        out.print(f"{result['total']} enrolled")
        for p in result["persons"]:
            out.print(escape(f"  {p['id']}  {p['nik']}  {p['name']}  templates={p['templates']}  consents={','.join(p['consents'])}"))

    _run(as_json, action, render)


@persons_app.command("export")
def persons_export(person_id: str, as_json: JsonFlag = False) -> None:
    """Everything held about one person (for the data subject)."""
    from .services import persons

    _run(as_json, lambda: persons.export(_facegate(), person_id), lambda r: out.print_json(data=r))


@persons_app.command("add-photos")
def persons_add_photos(person_id: str, photos: Annotated[list[Path], typer.Argument(help="More photos of the person.")], as_json: JsonFlag = False) -> None:
    """Add photos (templates) to an enrolled person."""
    from .services.enrollment import add_photos

    _run(as_json, lambda: add_photos(_facegate(), person_id, list(photos)).summary())


@persons_app.command("consent")
def persons_consent(
    person_id: str,
    operator: Annotated[str, typer.Option(help="Operator the person now consents to.")],
    as_json: JsonFlag = False,
) -> None:
    """Record consent for another operator."""
    from .services.persons import grant_consent

    _run(as_json, lambda: grant_consent(_facegate(), person_id, operator).summary())


@persons_app.command("delete")
def persons_delete(
    person_id: str,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm the erasure.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Erase a person: templates, consents and all links to them."""
    from .services import persons

    def action() -> dict[str, Any]:
        if not yes:
            raise InvalidInput("Erasure cannot be undone: repeat with --yes.")
        return {"deleted": person_id, **persons.erase(_facegate(), person_id)}

    _run(as_json, action)


# -- manifests ----------------------------------------------------------------------


@departures_app.command("add")
def departures_add(
    operator: Annotated[str, typer.Option(help="Operator, e.g. KAI.")],
    service: Annotated[str, typer.Option(help="Train or flight number.")],
    site: Annotated[str, typer.Option(help="Origin station/airport code, e.g. GMR.")],
    at: Annotated[str, typer.Option(help="Scheduled departure, ISO 8601 (local time if no offset).")],
    opens: Annotated[int, typer.Option(help="Boarding opens this many minutes before departure.")] = 60,
    closes: Annotated[int, typer.Option(help="Boarding closes this many minutes before departure.")] = 5,
    as_json: JsonFlag = False,
) -> None:
    """Add a departure."""
    from .services.manifests import add_departure

    def action() -> dict[str, Any]:
        fg = _facegate()
        when = _parse_time(at, fg.settings.timezone)
        d = add_departure(fg, operator=operator, service_number=service, origin_site=site, scheduled_at=when,  # type: ignore[arg-type]
                          boarding_opens_minutes=opens, boarding_closes_minutes=closes)
        return _departure_dict(d, fg.settings.timezone)

    _run(as_json, action)


def _departure_dict(d: Any, tz: str) -> dict[str, Any]:
    def local(t: datetime) -> str:
        return t.astimezone(ZoneInfo(tz)).isoformat()

    return {
        "id": d.id, "operator": d.operator, "service_number": d.service_number, "origin_site": d.origin_site,
        "scheduled_at": local(d.scheduled_at), "boarding_opens_at": local(d.boarding_opens_at),
        "boarding_closes_at": local(d.boarding_closes_at), "cancelled": d.cancelled,
    }


@departures_app.command("list")
def departures_list(site: Optional[str] = None, as_json: JsonFlag = False) -> None:
    """List departures, optionally from one site."""
    from .services.manifests import list_departures

    def render(result: dict[str, Any]) -> None:
        for d in result["departures"]:
            out.print(escape(f"{d['id']}  {d['operator']} {d['service_number']}  {d['origin_site']}  {d['scheduled_at']}"))

    def action() -> dict[str, Any]:
        fg = _facegate()
        return {"departures": [_departure_dict(d, fg.settings.timezone) for d in list_departures(fg, site)]}

    _run(as_json, action, render)


@bookings_app.command("import")
def bookings_import(csv_file: Annotated[Path, typer.Argument(help="CSV: departure_id,booking_ref,nik,seat")], as_json: JsonFlag = False) -> None:
    """Import bookings from CSV (all rows or none; re-import is harmless)."""
    from .services.manifests import import_bookings

    _run(as_json, lambda: import_bookings(_facegate(), csv_file))


@bookings_app.command("list")
def bookings_list(departure: Annotated[str, typer.Option(help="Departure id.")], as_json: JsonFlag = False) -> None:
    """A departure's bookings: id, ref, seat, status (no passenger data)."""
    from .services.manifests import list_bookings

    def render(result: dict[str, Any]) -> None:
        for b in result["bookings"]:
            out.print(escape(f"{b['booking_id']}  {b['booking_ref']}  seat {b['seat']}  {b['status']}"))

    _run(as_json, lambda: {"bookings": list_bookings(_facegate(), departure)}, render)


@bookings_app.command("cancel")
def bookings_cancel(booking_id: str, as_json: JsonFlag = False) -> None:
    """Cancel an unused booking."""
    from .services.manifests import cancel_booking

    _run(as_json, lambda: cancel_booking(_facegate(), booking_id))


# -- recognition ----------------------------------------------------------------------


@gate_app.command("verify")
def gate_verify(
    photo: Annotated[Path, typer.Argument(help="Camera frame.")],
    site: Annotated[Optional[str], typer.Option(help="Station/airport code of this gate (default: the registered gate's site).")] = None,
    gate: Annotated[str, typer.Option(help="Gate id.")] = "gate-1",
    at: Annotated[Optional[str], typer.Option(help="Decision time, ISO 8601 (default: now).")] = None,
    booking: Annotated[Optional[str], typer.Option(help="1:1 mode: the booking id from the scanned ticket.")] = None,
    ticket: Annotated[Optional[str], typer.Option(help="1:1 mode: the ticket's booking reference.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Decide at a gate: open or refuse, with the reason."""
    from .services.gate import decide

    def action() -> dict[str, Any]:
        fg = _facegate()
        when = _parse_time(at, fg.settings.timezone) or datetime.now(ZoneInfo(fg.settings.timezone))
        return decide(fg, photo, site=site, gate=gate, at=when, booking_id=booking, booking_ref=ticket).to_dict()

    def render(r: dict[str, Any]) -> None:
        colour = "green" if r["outcome"] == "open" else "red"
        out.print(f"[{colour}]{r['outcome'].upper()}[/{colour}] {r['reason']}: {escape(r['message'])}")
        if r["service_number"]:
            out.print(escape(f"  {r['service_number']} seat {r['seat']}"))
        out.print(f"  score {r['score']} threshold {r['threshold']} ({r['operating_point']}), gallery {r['gallery_size']}, {r['latency_ms']} ms")
        if r["note"]:
            out.print(f"  {r['note']}")

    _run(as_json, action, render)


@gate_app.command("events")
def gate_events(
    site: Annotated[Optional[str], typer.Option(help="Only this station/airport.")] = None,
    limit: int = typer.Option(50, min=1, max=1000),
    as_json: JsonFlag = False,
) -> None:
    """Recent gate decisions, newest first."""
    from .services.audit import recent_decisions

    def render(result: dict[str, Any]) -> None:
        for e in result["events"]:
            out.print(escape(f"{e['at']}  {e['site']}/{e['gate']}  {e['outcome']:<6} {e['reason']:<24} score {e['score']}"))

    _run(as_json, lambda: {"events": recent_decisions(_facegate(), site, limit)}, render)


@app.command("audit-verify")
def audit_verify(as_json: JsonFlag = False) -> None:
    """Check that the audit log's hash chain is intact."""
    from .services.audit import verify_audit

    _run(as_json, lambda: verify_audit(_facegate()))


@app.command()
def compare(first: Path, second: Path, as_json: JsonFlag = False) -> None:
    """Are two photos the same person? (1:1 at FMR 1e-4)"""
    from .services.recognition import compare as do_compare

    _run(as_json, lambda: do_compare(_facegate(), first, second))


@app.command()
def identify(photo: Path, top_k: int = typer.Option(5, min=1, max=50), as_json: JsonFlag = False) -> None:
    """Who is this? 1:N over all enrolled persons, 'unknown' below threshold."""
    from .services.recognition import identify as do_identify

    _run(as_json, lambda: do_identify(_facegate(), photo, top_k))


# -- evaluation --------------------------------------------------------------------


@app.command("eval")
def evaluate(
    dataset: Annotated[Path, typer.Argument(help="Folder of images/<identity>/<photo> (optionally with pairs.txt).")],
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Report folder (default: ./eval-<dataset name>).")] = None,
    calibrate: Annotated[bool, typer.Option("--calibrate", help="Also write operating points the gates will use.")] = False,
    calibration_file: Annotated[Optional[Path], typer.Option(help="Where --calibrate writes (default: FACEGATE_DATA_DIR/operating_points.json).")] = None,
    seed: int = typer.Option(2026),
    as_json: JsonFlag = False,
) -> None:
    """Error rates of the production pipeline on a photo dataset, as HTML + JSON + plots."""
    from .eval.report import evaluate as run_eval
    from .vision.engine import FaceEngine

    def action() -> dict[str, Any]:
        fg = _facegate()
        target = calibration_file or (fg.settings.data_dir / "operating_points.json") if calibrate else None
        folder = out_dir or Path(f"eval-{dataset.resolve().name}")
        with _progress(not as_json, "Embedding photos") as advance:
            result = run_eval(dataset, folder, engine=FaceEngine(fg.settings.model_dir), seed=seed,
                              calibrate_to=target, on_progress=advance)
        result.pop("fta_files", None) if len(result.get("fta_files", [])) > 50 else None
        return result

    def render(r: dict[str, Any]) -> None:
        out.print(f"{r['images']:,} photos, {r['identities']:,} people; failure to acquire {r['fta_rate']:.4%}")
        eer = "n/a" if r["eer"] is None else f"{r['eer']:.4%}"
        out.print(f"1:1 over {r['genuine_pairs']:,} genuine / {r['impostor_pairs']:,} impostor pairs; EER {eer}")
        for name, tar in r["tar_at_far"].items():
            out.print(f"  TAR at FMR {name}: {'not measurable' if tar is None else tar}")
        if "lfw_10fold_accuracy" in r:
            out.print(f"LFW 10-fold accuracy {r['lfw_10fold_accuracy']} (95% CI {r['lfw_10fold_ci95']})")
        if r.get("operating_points_file"):
            out.print(f"Operating points written to {r['operating_points_file']} (version {r['operating_points_version']})")
        out.print(f"Report: {r['report']}")

    _run(as_json, action, render)


class _progress:
    """A Rich progress bar on stderr (or nothing), fed by (done, total) callbacks."""

    def __init__(self, enabled: bool, description: str) -> None:
        self.enabled, self.description = enabled, description

    def __enter__(self) -> Callable[[int, int], None]:
        if not self.enabled:
            return lambda done, total: None
        from rich.progress import Progress

        self._bar = Progress(console=err, transient=True)
        self._bar.start()
        task = self._bar.add_task(self.description, total=None)
        return lambda done, total: self._bar.update(task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._bar.stop()


# -- tenancy, keys and the API server ---------------------------------------------------


@operators_app.command("add")
def operators_add(
    code: Annotated[str, typer.Argument(help="Operator code, e.g. KAI.")],
    name: Annotated[Optional[str], typer.Option(help="Full name.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add an operator."""
    from .services.tenancy import add_operator

    _run(as_json, lambda: add_operator(_facegate(), code, name))


@operators_app.command("list")
def operators_list(as_json: JsonFlag = False) -> None:
    """Operators with their sites and gates."""
    from .services.tenancy import describe

    def render(result: dict[str, Any]) -> None:
        for o in result["operators"]:
            out.print(escape(f"{o['operator']}  {o['name']}"))
            for site in o["sites"]:
                out.print(escape(f"  {site['site']}  {site['name']}  gates: {', '.join(site['gates']) or '-'}"))

    _run(as_json, lambda: describe(_facegate()), render)


@sites_app.command("add")
def sites_add(
    code: Annotated[str, typer.Argument(help="Station/airport code, e.g. GMR.")],
    operator: Annotated[str, typer.Option(help="The operator that owns it.")],
    name: Annotated[Optional[str], typer.Option(help="Full name, e.g. Gambir.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a site (station or airport) owned by an operator."""
    from .services.tenancy import add_site

    _run(as_json, lambda: add_site(_facegate(), code, operator, name))


@gates_app.command("add")
def gates_add(
    gate_id: Annotated[str, typer.Argument(help="Gate id, e.g. GMR-1.")],
    site: Annotated[str, typer.Option(help="The site the gate stands at.")],
    as_json: JsonFlag = False,
) -> None:
    """Register a gate at a site."""
    from .services.tenancy import add_gate

    _run(as_json, lambda: add_gate(_facegate(), gate_id, site))


@keys_app.command("create")
def keys_create(
    operator: Annotated[str, typer.Option(help="The operator the key acts for.")],
    role: Annotated[str, typer.Option(help="admin, enroll, gate, manifest or audit.")],
    gate: Annotated[Optional[str], typer.Option(help="For a gate key: its gate.")] = None,
    label: Annotated[str, typer.Option(help="What the key is for, e.g. 'kiosk 3'.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Create an API key. The key is printed once; only a keyed hash is stored."""
    from .services.keys import create_key

    def render(r: dict[str, Any]) -> None:
        out.print(escape(f"{r['role']} key {r['key_id']} for {r['operator']}" + (f" at gate {r['gate']}" if r["gate"] else "")))
        out.print(f"[bold]{r['api_key']}[/bold]")
        out.print("Store it now: it is not shown again.")

    _run(as_json, lambda: create_key(_facegate(), operator, role, gate, label), render)


@keys_app.command("list")
def keys_list(
    operator: Annotated[Optional[str], typer.Option(help="Only this operator's keys.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """API keys (ids, roles and state; never the secret)."""
    from .services.keys import list_keys

    def render(result: dict[str, Any]) -> None:
        for k in result["keys"]:
            state = f"revoked {k['revoked_at']}" if k["revoked_at"] else "active"
            out.print(escape(f"{k['key_id']}  {k['operator']:<8} {k['role']:<8} {k['gate'] or '-':<10} {state}  {k['label']}"))

    _run(as_json, lambda: {"keys": list_keys(_facegate(), operator)}, render)


@keys_app.command("revoke")
def keys_revoke(key_id: str, as_json: JsonFlag = False) -> None:
    """Revoke an API key at once."""
    from .services.keys import revoke_key

    _run(as_json, lambda: revoke_key(_facegate(), key_id))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    operator: Annotated[str, typer.Option(help="Operator of the first admin key, on a store with none.")] = "DEFAULT",
) -> None:
    """Start the HTTP API (docs at /docs). On a store without an admin key, prints a first one."""
    import uvicorn

    from .services.keys import first_admin_key

    try:
        fg = _facegate()
        first = first_admin_key(fg, operator)
        where = fg.settings.resolved_database_url.split("@")[-1]
        fg.close()
    except FacegateError as error:
        _fail(error, False)
    out.print(f"facegate API on http://{host}:{port}  (docs: http://{host}:{port}/docs; store: {escape(where)})")
    if first is not None:
        out.print(f"First admin key for operator {escape(first['operator'])} (shown once, store it now):")
        out.print(f"[bold]{first['api_key']}[/bold]")
    uvicorn.run("facegate.api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")


# -- demo and benchmark ---------------------------------------------------------------


@app.command()
def demo(
    passengers: int = typer.Option(300, min=20, max=1500, help="Enrolled passengers."),
    seed: int = typer.Option(7),
    data_dir: Annotated[Optional[Path], typer.Option(help="Where the demo's fresh store goes (default: a temporary folder).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """A day at a station on real LFW photos, on a fresh SQLite store; prints a summary."""
    from .services.demo import run_demo

    _run(as_json, lambda: run_demo(passengers=passengers, seed=seed, data_dir=data_dir, progress=not as_json))


@app.command()
def bench(
    repeats: int = typer.Option(30, min=3, max=1000),
    as_json: JsonFlag = False,
) -> None:
    """Median and p95 per stage and end to end for a 640x480 gate frame."""
    from .bench import run_bench

    _run(as_json, lambda: run_bench(repeats=repeats, progress=not as_json))


# -- entry point -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    as_json = "--json" in args
    try:
        status = app(args=args, prog_name="facegate", standalone_mode=False)
        if isinstance(status, int):  # without standalone mode, Exit(n) comes back as n
            sys.exit(status)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as usage:  # bad arguments: Typer's usage errors
        if as_json:
            print(json.dumps({"error": {"code": "invalid_input", "message": usage.format_message()}}))  # type: ignore[attr-defined]
        else:
            usage.show()  # type: ignore[attr-defined]
        sys.exit(2)
    except FacegateError as error:  # e.g. raised while settings load
        try:
            _fail(error, as_json)
        except typer.Exit:
            sys.exit(2)
    except BrokenPipeError:  # the reader went away (e.g. `| head`): nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except Exception as exc:  # a bug: say so plainly, details only on request
        if os.environ.get("FACEGATE_DEBUG"):
            raise
        message = f"Internal error ({type(exc).__name__}); rerun with FACEGATE_DEBUG=1 for details and report it."
        if as_json:
            print(json.dumps({"error": {"code": "internal_error", "message": message}}))
        else:
            err.print(f"[red]error[/red]: {escape(message)}")
        sys.exit(1)
