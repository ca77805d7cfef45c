"""CLI commands for surveys (问卷): import a survey from a JSON or YAML file and publish it."""

from pathlib import Path

import click

from bot.app.services import handler_options
from bot.app.settings import Settings
from bot.cli.support import now, on_branch, run, say, settings_from
from handlers.core.messages import Msg
from handlers.surveys.imports import import_survey
from handlers.surveys.show import audience_of
from handlers.surveys.spec import SpecInvalid


@click.group("surveys")
def surveys_group() -> None:
    """Surveys (问卷): import a survey from a file."""


@surveys_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--branch", "branch_name", required=True, help="The branch it is for.")
@click.pass_context
def surveys_import(ctx: click.Context, file: Path, branch_name: str) -> None:
    """Publish the survey FILE (.json, .yaml or .yml) describes to the branch, telling its
    members at once; a file with problems is refused whole, every problem listed."""
    settings = settings_from(ctx)
    try:
        run(settings, _import(settings, file.name, file.read_bytes(), branch_name))
    except SpecInvalid as err:
        problems = [Msg("survey.problem", where=p.where, what=p.what) for p in err.problems]
        say(settings, "survey.import_invalid", err=True, count=len(problems), problems=problems)
        raise SystemExit(1) from None


async def _import(settings: Settings, name: str, raw: bytes, branch_name: str) -> None:
    zone = handler_options(settings).timezone
    async with on_branch(settings, branch_name) as (services, session, branch):
        published = await import_survey(session, services.box, branch, name, raw, now(), zone)
    survey = published.survey
    say(
        settings,
        "survey.imported",
        id=survey.id,
        title=survey.title,
        branch=branch.name,
        questions=len(survey.questions),
        audience=audience_of(survey),
        count=published.audience,
        invited=published.invited,
        deadline=survey.deadline,
        anonymous=Msg("survey.anonymous_tag" if survey.anonymous else "survey.named_tag"),
    )
