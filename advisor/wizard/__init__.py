"""The wizard: asks the question bank, offers to finish once nothing left can change the verdict,
shows the summary and the verdict, then offers the reports and the starter.

askers.py draws the prompts, flow.py runs the session, offers.py writes what it offers.
"""

from advisor.wizard.askers import BACK, DONE, HELP, MAX_TRIES, Asker, PlainAsker, PromptAsker, Step, show, typed_reply
from advisor.wizard.askers import terminal_asker as terminal_asker
from advisor.wizard.flow import (
    ANSWERS_FILE,
    AnswersKeeper,
    ask_one,
    ask_questions,
    choose_answers_path,
    choose_path,
    closing_lines,
    help_text,
    review,
    run,
    session,
    to_ask,
    what_was_kept,
)
from advisor.wizard.offers import REPORT_PATHS, offer_reports, offer_starter, write_report

__all__ = [
    "ANSWERS_FILE",
    "BACK",
    "DONE",
    "HELP",
    "MAX_TRIES",
    "REPORT_PATHS",
    "AnswersKeeper",
    "Asker",
    "PlainAsker",
    "PromptAsker",
    "Step",
    "ask_one",
    "ask_questions",
    "choose_answers_path",
    "choose_path",
    "closing_lines",
    "help_text",
    "offer_reports",
    "offer_starter",
    "review",
    "run",
    "session",
    "show",
    "terminal_asker",
    "to_ask",
    "typed_reply",
    "what_was_kept",
    "write_report",
]
