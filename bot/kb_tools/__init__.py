"""Tools for the people who edit the knowledge base: ``kb explain`` (one question, read the
way the matcher reads it) and ``kb test`` (a question set, graded). Pure: no Telegram, no
database."""

from bot.kb_tools.explain import Explanation, explain, format_explanation, run_explain
from bot.kb_tools.question_sets import (
    Question,
    QuestionSetError,
    TestReport,
    format_report,
    grade,
    load_questions,
    run_questions,
    run_test,
)

__all__ = [
    "Explanation",
    "Question",
    "QuestionSetError",
    "TestReport",
    "explain",
    "format_explanation",
    "format_report",
    "grade",
    "load_questions",
    "run_explain",
    "run_questions",
    "run_test",
]
