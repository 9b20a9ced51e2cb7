"""``kinmatch admin``: set up the shared case on the server — agencies, a
programme with its agencies, users with their roles (the first programme
administrator above all: the service has no default account), and a
second factor reset for a lost authenticator.

Every change is recorded in the audit log as made by the operating-system
user running the command (``os:NAME``, :func:`kinmatch.storage.audit.operator`).
"""

from __future__ import annotations

import click

from kinmatch.cli.common import database_options, friendly
from kinmatch.service.administration import (
    create_agency,
    create_programme,
    create_user,
    reset_second_factor,
)
from kinmatch.storage.audit import operator
from kinmatch.storage.database import Database
from kinmatch.storage.models import Role

ROLES = [r.value for r in Role]


@click.group("admin")
def admin_group() -> None:
    """Create agencies, programmes and users; reset a second factor.

    Run on the server, as whoever may open the database (the audit log
    names the operating-system user). Users are then managed through the
    API by the programme's administrators."""


@admin_group.command("create-agency")
@click.argument("code")
@click.option("--name", required=True, help="The agency's name.")
@click.option("--country", required=True, metavar="CC",
              help="Its country: ISO 3166-1 alpha-2 (KR, JP, ...).")
@database_options
@friendly
def create_agency_command(code: str, name: str, country: str, data: str | None,
                          database: str | None) -> None:
    """Create the agency CODE.

    An agency is a laboratory or institute that collects data: it owns the
    families and samples it imports."""
    db = Database.open(database, data)
    with db.write() as session:
        create_agency(session, operator(), code, name, country.upper())
    click.echo(f"agency {code} created: {name} ({country.upper()})")


@admin_group.command("create-programme")
@click.argument("code")
@click.option("--name", required=True, help="The programme's name.")
@click.option("--agency", "agencies", multiple=True, required=True, metavar="CODE",
              help="An agency that runs it (repeat for each; create them first).")
@click.option("--description", default="", help="What the programme is.")
@database_options
@friendly
def create_programme_command(code: str, name: str, agencies: tuple[str, ...],
                             description: str, data: str | None,
                             database: str | None) -> None:
    """Create the programme CODE with its agencies.

    The agencies (--agency, repeated) run it together; create them first."""
    db = Database.open(database, data)
    with db.write() as session:
        create_programme(session, operator(), code, name, agencies, description)
    click.echo(f"programme {code} created: {name}; agencies {', '.join(dict.fromkeys(agencies))}")


@admin_group.command("create-user")
@click.argument("username")
@click.option("--agency", required=True, metavar="CODE", help="The agency the user belongs to.")
@click.option("--programme", required=True, metavar="CODE",
              help="The programme the roles are in.")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(ROLES), help="A role in the programme (repeat for several).")
@click.option("--display-name", default="", help="The name shown for the user.")
@database_options
@friendly
def create_user_command(username: str, agency: str, programme: str, roles: tuple[str, ...],
                        display_name: str, data: str | None, database: str | None) -> None:
    """Create a user; prints a one-time password.

    USERNAME belongs to an agency of the programme and holds the roles given
    in it. The password is random and printed this once (there is no
    default password); only its Argon2id hash is stored."""
    db = Database.open(database, data)
    with db.write() as session:
        made = create_user(session, operator(), username, agency=agency, programme=programme,
                           roles=[Role(r) for r in roles], display_name=display_name)
    granted = ", ".join(sorted(dict.fromkeys(roles)))
    click.echo(f"user {username} created: {agency}, {granted} in {programme}")
    click.echo(f"one-time password (shown once): {made.password}")
    click.echo("hand it to the user apart from the username; they change it at once "
               "(POST /api/me/password)")


@admin_group.command("reset-totp")
@click.argument("username")
@click.option("--reason", default="", metavar="TEXT",
              help="Why, for the audit log (e.g. 'phone lost; identity checked in person').")
@database_options
@friendly
def reset_totp_command(username: str, reason: str, data: str | None,
                       database: str | None) -> None:
    """Remove a user's second factor (lost device).

    For an authenticator that is lost: USERNAME logs in with their password
    alone and sets up a new second factor; their browser sessions end."""
    db = Database.open(database, data)
    with db.write() as session:
        reset = reset_second_factor(session, operator(), username, reason)
    if not reset.had_second_factor:
        click.echo(f"{username} has no second factor: nothing to reset")
        return
    click.echo(f"second factor of {username} removed; {reset.sessions_ended} session(s) "
               "ended; they log in with their password and set up a new one "
               "(POST /api/me/totp)")
