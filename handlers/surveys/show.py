"""How a survey is shown: its headline, what anonymity means, the invitation and buttons."""

from handlers.core.messages import Button, Msg, Reply
from handlers.surveys.spec import CHOICE_KINDS, LETTERS, Audience, Question
from storage.survey_models import Survey


def headline(survey: Survey) -> Msg:
    """`#3「学习需求调查」`, as replies quote a survey."""
    return Msg("survey.headline", id=survey.id, title=survey.title)


def anonymity(anonymous: bool) -> Msg:
    """One line on what the member's answers are tied to."""
    return Msg("survey.anonymous_line" if anonymous else "survey.named_line")


def audience_of(survey: Survey) -> Msg:
    return Audience.from_json(survey.audience).describe(school_wide=survey.branch_id is None)


def kind_name(kind: str) -> Msg:
    return Msg(f"survey.kind.{kind}")


def option_lines(question: Question) -> list[Msg]:
    return [
        Msg("survey.option_line", letter=LETTERS[i], text=text)
        for i, text in enumerate(question.options)
    ]


def outline(questions: list[Question]) -> list[Msg]:
    """The questions as a preview lists them, options under each choice question."""
    return [
        Msg(
            "survey.outline_question",
            no=no,
            kind=kind_name(q.kind),
            text=q.text,
            options=Msg("survey.outline_options", lines=option_lines(q))
            if q.kind in CHOICE_KINDS
            else "",
        )
        for no, q in enumerate(questions, start=1)
    ]


def start_button(survey: Survey, *, resume: bool = False) -> Button:
    key = "survey.resume_button" if resume else "survey.start_button"
    return Button(Msg(key), f"/survey {survey.id}")


def results_button(survey: Survey) -> Button:
    return Button(Msg("survey.results_button"), f"/survey_results {survey.id}")


def invitation(survey: Survey) -> Reply:
    """The message every member of the audience gets when a survey is published."""
    text = Msg(
        "survey.invite",
        survey=headline(survey),
        count=len(survey.questions),
        deadline=survey.deadline,
        anonymity=anonymity(survey.anonymous),
        id=survey.id,
    )
    return Reply(text, ((start_button(survey),),))
