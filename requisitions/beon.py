"""BEON checklist engine: interprets a declarative, versioned rule-set document.

Pure decision module (no ORM): a rule set is data. ``load_ruleset`` validates a JSON document and
compiles its conditions into closures once; ``evaluate`` validates a patient's answers and returns the
recommended level, the vehicle requirements and the reasons (which answers drove the result).
The shipped default is ``rulesets/hso-2026.1.json``; its behaviour is fixed by
``docs: beon-checklist.md``.

Document format (``"format": "beon-ruleset/1"``); every object may also carry a ``"comment"`` string,
any other unknown key is an error::

    {
      "format": "beon-ruleset/1",
      "version": "hso-2026.1",                 # 1-32 characters: letters, digits, . _ -
      "valid_from": "2026-01-01",              # ISO date
      "title": {"nb": "...", "en": "..."},     # every text is {"nb", "en"}, both non-empty
      "levels": [{"id", "label", "requisition"?: bool (default true)}, ...]
                                               # exactly LEVELS, lowest first; a level with
                                               # "requisition": false carries no requirements
      "questions": [                           # display order
        {"id", "type": "bool" | "enum" | "int" | "text", "label", "help"?,
         "required"?: bool (default false),
         "default"?: value (forbidden when required; needed when optional, except text: ""),
         "options"?: [{"value", "label"}, ...]            # enum only, required
         "minimum"?, "maximum"?: int                       # int only
         "max_length"?: int (default 1000)                 # text only
         "asked"?: bool (default true; false: filled by the portal, not shown on the form)
         "show_when"?: condition                           # the form shows the question only then
         "required_when"?: condition, "required_message"?: text
         "checks"?: [{"when": condition, "min_length": int, "message"?: text}]   # text only
        }],
      "conditions"?: {"name": condition, ...},  # named; a definition may only use earlier ones
      "rules": [                               # ordered: the first rule whose "when" holds decides
        {"id", "when"?: condition,             # only the last rule has no "when" (the catch-all)
         "level": level | "stop": "call_113",
         "reasons"?: [{"nb", "en", "when"?: condition, "question"?: question id}]}],
      "requirements": [{"when": condition, "add": [requirement, ...]}]
    }

Conditions::

    {"all": [c, ...]}   {"any": [c, ...]}   {"not": c}   {"ref": "name"}
    {"q": "question id", <op>: value}   op: eq, ne (all types); in, not_in (enum, int);
                                            gt, gte, lt, lte (int)

Conditions nest at most 20 levels. A leaf on an unanswered question (only possible over partial
answers) is false. Inside rules, any
condition node may carry ``"reason": {"nb", "en", "question"?}``. When a rule matches, its reasons are
the reasons of the nodes that held true along the path that made it true (for ``any``: every true
child, not only the first; nothing under a ``not``), then the rule's own ``reasons`` whose ``when``
holds. A reason's question is the leaf's question, else the explicit ``question``, else the single
question its condition refers to, else None.

``Result.rule`` names the rule that decided (for audit and debugging; not in ``as_dict``).

Answers: ``None`` counts as not answered; the optional ones get their default. Text is stripped;
blank text is not an answer. A ``check`` applies to non-blank text, counting characters after
collapsing whitespace (``companion_reason`` needs 20 for two companions; for one, any non-blank text).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from django.apps import apps
from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured
from django.utils import translation

__all__ = [
    "DEFAULT_VERSION",
    "LEVELS",
    "REQUIREMENTS",
    "STOPS",
    "AnswerError",
    "Condition",
    "Level",
    "Option",
    "Question",
    "Reason",
    "Result",
    "RuleSet",
    "RuleSetError",
    "default_ruleset",
    "evaluate",
    "level_rank",
    "load_ruleset",
    "ruleset_in_force",
    "shipped_rulesets",
    "validate_answers",
    "validate_partial",
]

FORMAT = "beon-ruleset/1"
DEFAULT_VERSION = "hso-2026.1"
LEVELS: tuple[str, ...] = (
    "public_transport",
    "helseekspress",
    "taxi",
    "wheelchair_taxi",
    "white_car",
    "ambulance",
)
REQUIREMENTS: tuple[str, ...] = tuple(
    sorted(
        (
            "child_seat",
            "companion",
            "door_to_door",
            "escort_personnel",
            "front_seat",
            "isolation",
            "no_shared_ride",
            "oxygen",
            "stretcher",
            "wheelchair_space",
        )
    )
)
STOPS: tuple[str, ...] = ("call_113",)
QUESTION_TYPES: tuple[str, ...] = ("bool", "enum", "int", "text")
DEFAULT_MAX_LENGTH = 1000
MAX_CONDITION_DEPTH = 20

_LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}


def level_rank(level: str) -> int:
    """Position of ``level`` from the lowest (0); ValueError for an unknown level."""
    try:
        return _LEVEL_RANK[level]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown level: {level!r}.") from None


# --- i18n: English source strings; Norwegian comes from the project's translations -------------------


def _(message: str) -> str:
    """gettext that also works where Django is not set up (bench, plain pytest): English then."""
    try:
        return translation.gettext(message)
    except (ImproperlyConfigured, AppRegistryNotReady):
        return message


def _active_language() -> str:
    """Language of the document's own messages; English wherever ``_`` falls back to English."""
    if not apps.ready:
        return "en"
    try:
        return translation.get_language() or "en"
    except (ImproperlyConfigured, AppRegistryNotReady):
        return "en"


def _pick(lang: str | None, nb: str, en: str) -> str:
    return en if lang and lang.lower().startswith("en") else nb


# --- errors -----------------------------------------------------------------------------------------


class RuleSetError(ValueError):
    """A rule-set document is invalid. ``errors`` lists every problem as ``"path: message"``."""

    def __init__(self, errors: list[str] | str):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        if len(self.errors) == 1:
            message = self.errors[0]
        else:
            message = f"{len(self.errors)} problems: " + "; ".join(self.errors)
        super().__init__(message)


class AnswerError(ValueError):
    """Answers are invalid. ``errors`` maps question id (``"__all__"`` for the whole) to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{key}: {' '.join(messages)}" for key, messages in errors.items()))


# --- the compiled model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    question: str | None
    text_nb: str
    text_en: str

    def text(self, lang: str = "nb") -> str:
        return _pick(lang, self.text_nb, self.text_en)

    def as_dict(self, lang: str = "nb") -> dict[str, Any]:
        return {"question": self.question, "text": self.text(lang)}


Test = Callable[[Mapping[str, Any]], bool]
Explain = Callable[[Mapping[str, Any], list], None]


@dataclass(frozen=True)
class Condition:
    """A compiled condition. Call it with validated answers (or ``RuleSet.partial_values``)."""

    source: Mapping[str, Any] = field(hash=False)
    refs: frozenset[str]
    test: Test = field(repr=False, compare=False)
    explain: Explain = field(repr=False, compare=False)

    def __call__(self, values: Mapping[str, Any]) -> bool:
        return self.test(values)

    def reasons(self, values: Mapping[str, Any]) -> tuple[Reason, ...]:
        """The reasons of the nodes that made this condition true (empty when it is false)."""
        if not self.test(values):
            return ()
        found: list[Reason] = []
        self.explain(values, found)
        return tuple(found)


@dataclass(frozen=True)
class Option:
    value: str
    label_nb: str
    label_en: str

    def label(self, lang: str = "nb") -> str:
        return _pick(lang, self.label_nb, self.label_en)


@dataclass(frozen=True)
class TextCheck:
    when: Condition
    min_length: int
    message_nb: str = ""
    message_en: str = ""


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    label_nb: str
    label_en: str
    required: bool = False
    default: Any = None
    options: tuple[Option, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    help_nb: str = ""
    help_en: str = ""
    asked: bool = True
    show_when: Condition | None = None
    required_when: Condition | None = None
    required_message_nb: str = ""
    required_message_en: str = ""
    checks: tuple[TextCheck, ...] = ()

    def label(self, lang: str = "nb") -> str:
        return _pick(lang, self.label_nb, self.label_en)

    def help(self, lang: str = "nb") -> str:
        return _pick(lang, self.help_nb, self.help_en)

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(option.value for option in self.options)

    def choices(self, lang: str = "nb") -> list[tuple[str, str]]:
        return [(option.value, option.label(lang)) for option in self.options]


@dataclass(frozen=True)
class Level:
    id: str
    label_nb: str
    label_en: str
    requisition: bool = True

    def label(self, lang: str = "nb") -> str:
        return _pick(lang, self.label_nb, self.label_en)


@dataclass(frozen=True)
class RuleReason:
    reason: Reason
    when: Condition | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    when: Condition | None
    level: str | None
    stop: str | None
    reasons: tuple[RuleReason, ...] = ()

    def explain(self, values: Mapping[str, Any]) -> tuple[Reason, ...]:
        found: list[Reason] = []
        if self.when is not None:
            self.when.explain(values, found)
        for extra in self.reasons:
            if extra.when is None or extra.when.test(values):
                found.append(extra.reason)
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class RequirementRow:
    when: Condition
    add: tuple[str, ...]


@dataclass(frozen=True)
class Result:
    checklist_version: str
    level: str | None
    requirements: tuple[str, ...]
    reasons: tuple[Reason, ...]
    stop: str | None
    answers: Mapping[str, Any] = field(hash=False, repr=False)
    rule: str = ""

    def as_dict(self, lang: str = "nb") -> dict[str, Any]:
        return {
            "checklist_version": self.checklist_version,
            "level": self.level,
            "requirements": list(self.requirements),
            "reasons": [reason.as_dict(lang) for reason in self.reasons],
            "stop": self.stop,
        }


_INVALID = object()
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _checker(q: Question) -> Callable[[Any], Any]:
    """A fast type/range check returning the clean value or ``_INVALID``."""
    if q.type == "bool":

        def check(v: Any) -> Any:
            return v if v is True or v is False else _INVALID

    elif q.type == "enum":
        allowed = frozenset(q.option_values)

        def check(v: Any) -> Any:
            return v if type(v) is str and v in allowed else _INVALID

    elif q.type == "int":
        low = float("-inf") if q.minimum is None else q.minimum
        high = float("inf") if q.maximum is None else q.maximum

        def check(v: Any) -> Any:
            return v if type(v) is int and low <= v <= high else _INVALID

    else:
        max_length = q.max_length if q.max_length is not None else DEFAULT_MAX_LENGTH
        search = _CONTROL.search

        def check(v: Any) -> Any:
            if not isinstance(v, str):
                return _INVALID
            v = v.strip()
            return v if len(v) <= max_length and search(v) is None else _INVALID

    return check


def _type_error(q: Question, value: Any) -> str:
    if q.type == "bool":
        return _("Must be true or false.")
    if q.type == "enum":
        return _("Must be one of: %(options)s.") % {"options": ", ".join(q.option_values)}
    if q.type == "int":
        if q.minimum is not None and q.maximum is not None:
            return _("Must be a whole number from %(minimum)s to %(maximum)s.") % {
                "minimum": q.minimum,
                "maximum": q.maximum,
            }
        if q.minimum is not None:
            return _("Must be a whole number of at least %(minimum)s.") % {"minimum": q.minimum}
        if q.maximum is not None:
            return _("Must be a whole number of at most %(maximum)s.") % {"maximum": q.maximum}
        return _("Must be a whole number.")
    if not isinstance(value, str):
        return _("Must be text.")
    if _CONTROL.search(value.strip()):
        return _("Must not contain control characters.")
    max_length = q.max_length if q.max_length is not None else DEFAULT_MAX_LENGTH
    return _("Must be at most %(max_length)s characters.") % {"max_length": max_length}


def _document_text(nb: str, en: str, fallback: str) -> str:
    if not nb and not en:
        return fallback
    return _pick(_active_language(), nb, en)


@dataclass(frozen=True, eq=False)
class RuleSet:
    version: str
    valid_from: date
    title_nb: str
    title_en: str
    levels: tuple[Level, ...]
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]
    requirement_rows: tuple[RequirementRow, ...]
    document: Mapping[str, Any] = field(repr=False)

    def __post_init__(self) -> None:
        by_id = {q.id: q for q in self.questions}
        setattr_ = object.__setattr__
        setattr_(self, "_by_id", by_id)
        setattr_(self, "_ids", frozenset(by_id))
        setattr_(self, "_checkers", tuple((q.id, _checker(q), q.required, q.default) for q in self.questions))
        setattr_(
            self,
            "_conditionals",
            tuple(q for q in self.questions if q.required_when is not None or q.checks),
        )
        # load_ruleset guarantees that exactly the last rule has no `when`: it is the catch-all.
        setattr_(self, "_rule_table", tuple((rule.when.test, rule) for rule in self.rules if rule.when))
        setattr_(self, "_catch_all", self.rules[-1])
        setattr_(self, "_requirement_table", tuple((row.when.test, row.add) for row in self.requirement_rows))
        setattr_(self, "_requisition", {level.id: level.requisition for level in self.levels})
        setattr_(self, "_sorted_requirements", {})

    def __repr__(self) -> str:
        return f"<RuleSet {self.version} valid from {self.valid_from.isoformat()}>"

    def title(self, lang: str = "nb") -> str:
        return _pick(lang, self.title_nb, self.title_en)

    def question(self, question_id: str) -> Question:
        try:
            return self._by_id[question_id]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(f"Unknown question {question_id!r} in rule set {self.version}.") from None

    def level(self, level_id: str) -> Level:
        for level in self.levels:
            if level.id == level_id:
                return level
        raise KeyError(f"Unknown level {level_id!r}.")

    def partial_values(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Every question's value for the live form: valid answers, else the default (or None)."""
        values: dict[str, Any] = {}
        get = answers.get
        for qid, check, _required, default in self._checkers:  # type: ignore[attr-defined]
            raw = get(qid)
            value = _INVALID if raw is None else check(raw)
            values[qid] = default if value is _INVALID else value
        return values

    def visible_questions(self, answers: Mapping[str, Any]) -> list[Question]:
        """Questions the form shows for these (partial, unvalidated) answers, in display order.

        Questions with ``asked: false`` are never shown; ``show_when`` is evaluated over
        ``partial_values`` (an unanswered question makes its leaves false)."""
        values = self.partial_values(answers)
        return [q for q in self.questions if q.asked and (q.show_when is None or q.show_when.test(values))]

    def required_questions(self, answers: Mapping[str, Any]) -> list[str]:
        """Ids of the questions that must be answered given these (partial) answers."""
        values = self.partial_values(answers)
        return [
            q.id for q in self.questions if q.required or (q.required_when is not None and q.required_when.test(values))
        ]


# --- answers ----------------------------------------------------------------------------------------


def validate_answers(ruleset: RuleSet, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Validated answers with defaults filled in; AnswerError naming every problem at once."""
    if not isinstance(answers, Mapping):
        raise AnswerError({"__all__": [_("Answers must be an object of question ids and values.")]})
    rs: Any = ruleset
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    unknown = answers.keys() - rs._ids
    if unknown:
        for key in sorted(map(str, unknown)):
            errors[key] = [_("Unknown question.")]
    get = answers.get
    for qid, check, required, default in rs._checkers:
        raw = get(qid)
        if raw is None:
            if required:
                errors[qid] = [_("This question must be answered.")]
            else:
                values[qid] = default
            continue
        value = check(raw)
        if value is _INVALID:
            errors[qid] = [_type_error(rs._by_id[qid], raw)]
        else:
            values[qid] = value
    for q in rs._conditionals:
        qid = q.id
        if qid in errors:
            continue
        value = values[qid]
        blank = value == "" or get(qid) is None
        when = q.required_when
        if blank and when is not None and values.keys() >= when.refs and when.test(values):
            message = _document_text(q.required_message_nb, q.required_message_en, _("Required by the other answers."))
            errors[qid] = [message]
            continue
        if not blank:
            for text_check in q.checks:
                if (
                    values.keys() >= text_check.when.refs
                    and text_check.when.test(values)
                    and len(" ".join(str(value).split())) < text_check.min_length
                ):
                    fallback = _("Must be at least %(min_length)s characters for the answers given.") % {
                        "min_length": text_check.min_length
                    }
                    errors.setdefault(qid, []).append(
                        _document_text(text_check.message_nb, text_check.message_en, fallback)
                    )
    if errors:
        raise AnswerError(errors)
    return values


def evaluate(ruleset: RuleSet, answers: Mapping[str, Any]) -> Result:
    """Validate the answers, then apply the rules (first match decides) and the requirements."""
    values = validate_answers(ruleset, answers)
    rs: Any = ruleset
    rule: Rule = rs._catch_all
    for test, candidate in rs._rule_table:
        if test(values):
            rule = candidate
            break
    reasons = rule.explain(values)
    frozen_values = MappingProxyType(values)
    if rule.stop is not None:
        return Result(ruleset.version, None, (), reasons, rule.stop, frozen_values, rule.id)
    requirements: tuple[str, ...] = ()
    if rs._requisition[rule.level]:
        codes: set[str] = set()
        for row_test, add in rs._requirement_table:
            if row_test(values):
                codes.update(add)
        if codes:
            key = frozenset(codes)
            requirements = rs._sorted_requirements.get(key)
            if requirements is None:
                requirements = rs._sorted_requirements[key] = tuple(sorted(key))
    return Result(ruleset.version, rule.level, requirements, reasons, None, frozen_values, rule.id)


def validate_partial(ruleset: RuleSet, answers: Mapping[str, Any]) -> tuple[Result | None, dict[str, list[str]]]:
    """For the live form: ``(result, {})`` when the answers are complete and valid, else
    ``(None, errors)`` (missing required answers included, so the form can pick what to show)."""
    try:
        return evaluate(ruleset, answers), {}
    except AnswerError as error:
        return None, error.errors


# --- loading a document -----------------------------------------------------------------------------

_VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_ID_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_OPS_BY_TYPE = {
    "bool": ("eq", "ne"),
    "enum": ("eq", "ne", "in", "not_in"),
    "int": ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte"),
    "text": ("eq", "ne"),
}
_ALL_OPS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte")
_COMPOSITES = ("all", "any", "not", "ref")


@dataclass
class _QInfo:
    type: str | None
    options: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


class _Node:
    __slots__ = ("test", "explain", "refs")

    def __init__(self, test: Test, explain: Explain, refs: frozenset[str]):
        self.test = test
        self.explain = explain
        self.refs = refs


def _noop(values: Mapping[str, Any], found: list) -> None:
    return None


def _all_of(tests: list[Test]) -> Test:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda a: first(a) and second(a)
    if len(tests) == 3:
        first, second, third = tests
        return lambda a: first(a) and second(a) and third(a)
    frozen = tuple(tests)

    def test(a: Mapping[str, Any]) -> bool:
        for t in frozen:
            if not t(a):
                return False
        return True

    return test


def _any_of(tests: list[Test]) -> Test:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda a: first(a) or second(a)
    if len(tests) == 3:
        first, second, third = tests
        return lambda a: first(a) or second(a) or third(a)
    frozen = tuple(tests)

    def test(a: Mapping[str, Any]) -> bool:
        for t in frozen:
            if t(a):
                return True
        return False

    return test


def _leaf_test(qid: str, info: _QInfo, op: str, value: Any) -> Test:
    if info.type == "bool":
        target = value if op == "eq" else not value
        if target:
            return lambda a: a[qid] is True
        return lambda a: a[qid] is False
    if info.type == "enum":
        chosen = {value} if op in ("eq", "ne") else set(value)
        allowed = frozenset(chosen if op in ("eq", "in") else set(info.options) - chosen)
        if len(allowed) == 1:
            (only,) = allowed
            return lambda a: a[qid] == only
        return lambda a: a[qid] in allowed
    if op == "eq":
        return lambda a: a[qid] == value
    if op == "ne":
        return lambda a: (v := a[qid]) is not None and v != value
    if op == "in":
        members = frozenset(value)
        return lambda a: a[qid] in members
    if op == "not_in":
        excluded = frozenset(value)
        return lambda a: (v := a[qid]) is not None and v not in excluded
    if op == "gt":
        return lambda a: (v := a[qid]) is not None and v > value
    if op == "gte":
        return lambda a: (v := a[qid]) is not None and v >= value
    if op == "lt":
        return lambda a: (v := a[qid]) is not None and v < value
    return lambda a: (v := a[qid]) is not None and v <= value


class _Loader:
    """Validates a document, collecting every problem, and builds the RuleSet."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.info: dict[str, _QInfo] = {}
        self.definitions: dict[str, _Node] = {}

    # helpers -----------------------------------------------------------------------------------------
    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def keys(self, obj: Mapping, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> bool:
        ok = True
        for key in required:
            if key not in obj:
                self.error(path, f"missing key '{key}'")
                ok = False
        allowed = set(required) | set(optional) | {"comment"}
        for key in obj:
            if key not in allowed:
                self.error(path, f"unknown key '{key}'")
                ok = False
        if "comment" in obj and not isinstance(obj["comment"], str):
            self.error(f"{path}.comment", "must be a string")
        return ok

    def obj(self, value: Any, path: str) -> bool:
        if not isinstance(value, Mapping):
            self.error(path, "must be an object")
            return False
        return True

    def texts(self, value: Any, path: str, extra: tuple[str, ...] = ()) -> tuple[str, str] | None:
        if not self.obj(value, path):
            return None
        ok = self.keys(value, path, ("nb", "en"), extra)
        for lang in ("nb", "en"):
            text = value.get(lang)
            if lang in value and (not isinstance(text, str) or not text.strip()):
                self.error(f"{path}.{lang}", "must be a non-empty string")
                ok = False
        return (value["nb"].strip(), value["en"].strip()) if ok else None

    def reason_of(self, value: Any, path: str, refs: frozenset[str], leaf: str | None) -> Reason | None:
        pair = self.texts(value, path, ("question",))
        if pair is None:
            return None
        question = leaf
        if "question" in value:
            question = value["question"]
            if not isinstance(question, str) or question not in self.info:
                self.error(f"{path}.question", f"unknown question {question!r}")
                return None
        elif question is None and len(refs) == 1:
            (question,) = refs
        return Reason(question, pair[0], pair[1])

    # conditions --------------------------------------------------------------------------------------
    def condition(self, node: Any, path: str, *, reasons: bool) -> Condition | None:
        compiled = self.node(node, path, reasons=reasons)
        if compiled is None:
            return None
        return Condition(copy.deepcopy(node), compiled.refs, compiled.test, compiled.explain)

    def node(self, node: Any, path: str, *, reasons: bool, depth: int = 0) -> _Node | None:
        if not self.obj(node, path):
            return None
        if depth > MAX_CONDITION_DEPTH:
            self.error(path, f"conditions nest at most {MAX_CONDITION_DEPTH} levels deep")
            return None
        kinds = [key for key in node if key in _COMPOSITES or key == "q"]
        if not kinds:
            others = [key for key in node if key not in ("reason", "comment")]
            if others:
                self.error(path, f"unknown condition operator '{others[0]}' (expected all, any, not, ref or q)")
            else:
                self.error(path, "empty condition (expected all, any, not, ref or q)")
            return None
        if len(kinds) > 1:
            self.error(path, f"a condition has exactly one of all, any, not, ref, q (got {', '.join(kinds)})")
            return None
        kind = kinds[0]
        if "reason" in node and not reasons:
            self.error(f"{path}.reason", "reasons are only used in rules and named conditions, outside 'not'")
            return None
        if kind == "q":
            return self.leaf(node, path)
        if not self.keys(node, path, (kind,), ("reason",)):
            return None
        if kind in ("all", "any"):
            items = node[kind]
            if not isinstance(items, list) or not items:
                self.error(f"{path}.{kind}", "must be a non-empty list of conditions")
                return None
            children = [
                self.node(item, f"{path}.{kind}[{i}]", reasons=reasons, depth=depth + 1) for i, item in enumerate(items)
            ]
            if any(child is None for child in children):
                return None
            refs = frozenset().union(*(child.refs for child in children))
            own = self.own_reason(node, path, refs)
            if own is False:
                return None
            tests = [child.test for child in children]
            explains = [child.explain for child in children]
            if kind == "all":
                test = _all_of(tests)

                def explain(a: Mapping[str, Any], found: list, own=own, explains=explains) -> None:
                    if own is not None:
                        found.append(own)
                    for child_explain in explains:
                        child_explain(a, found)

            else:
                test = _any_of(tests)
                pairs = list(zip(tests, explains, strict=True))

                def explain(a: Mapping[str, Any], found: list, own=own, pairs=pairs) -> None:
                    if own is not None:
                        found.append(own)
                    for child_test, child_explain in pairs:
                        if child_test(a):
                            child_explain(a, found)

            return _Node(test, explain, refs)
        if kind == "not":
            child = self.node(node["not"], f"{path}.not", reasons=False, depth=depth + 1)
            if child is None:
                return None
            own = self.own_reason(node, path, child.refs)
            if own is False:
                return None
            inner = child.test
            return _Node(lambda a: not inner(a), self.appender(own), child.refs)
        name = node["ref"]
        target = self.definitions.get(name) if isinstance(name, str) else None
        if target is None:
            self.error(f"{path}.ref", f"unknown condition {name!r} (a definition may only use earlier ones)")
            return None
        own = self.own_reason(node, path, target.refs)
        if own is False:
            return None
        if own is None:
            return target
        target_explain = target.explain

        def explain_ref(a: Mapping[str, Any], found: list) -> None:
            found.append(own)
            target_explain(a, found)

        return _Node(target.test, explain_ref, target.refs)

    def own_reason(self, node: Mapping, path: str, refs: frozenset[str]) -> Reason | None | bool:
        if "reason" not in node:
            return None
        reason = self.reason_of(node["reason"], f"{path}.reason", refs, None)
        return False if reason is None else reason

    @staticmethod
    def appender(reason: Reason | None) -> Explain:
        if reason is None:
            return _noop

        def explain(a: Mapping[str, Any], found: list) -> None:
            found.append(reason)

        return explain

    def leaf(self, node: Mapping, path: str) -> _Node | None:
        qid = node["q"]
        ops = [key for key in node if key not in ("q", "reason", "comment")]
        unknown = [key for key in ops if key not in _ALL_OPS]
        if unknown:
            self.error(path, f"unknown operator '{unknown[0]}' (expected one of {', '.join(_ALL_OPS)})")
            return None
        if len(ops) != 1:
            self.error(path, f"a condition on a question takes exactly one operator (got {len(ops)})")
            return None
        op = ops[0]
        if not isinstance(qid, str) or qid not in self.info:
            self.error(path, f"unknown question {qid!r}")
            return None
        info = self.info[qid]
        if info.type is None:  # the question itself is broken and already reported
            return None
        if op not in _OPS_BY_TYPE[info.type]:
            allowed = ", ".join(_OPS_BY_TYPE[info.type])
            self.error(f"{path}.{op}", f"operator '{op}' does not apply to {info.type} question {qid!r} ({allowed})")
            return None
        value = node[op]
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value:
                self.error(f"{path}.{op}", "must be a non-empty list")
                return None
            for i, item in enumerate(value):
                if not self.value_fits(item, info, qid, f"{path}.{op}[{i}]", in_range=True):
                    return None
        elif not self.value_fits(value, info, qid, f"{path}.{op}", in_range=op in ("eq", "ne")):
            return None
        reason = None
        if "reason" in node:
            reason = self.reason_of(node["reason"], f"{path}.reason", frozenset((qid,)), qid)
            if reason is None:
                return None
        return _Node(_leaf_test(qid, info, op, value), self.appender(reason), frozenset((qid,)))

    def value_fits(self, value: Any, info: _QInfo, qid: str, path: str, *, in_range: bool) -> bool:
        kind = info.type
        if kind == "bool" and not isinstance(value, bool):
            self.error(path, f"{qid!r} is a bool question: compare with true or false")
            return False
        if kind == "enum" and value not in info.options:
            self.error(path, f"{value!r} is not an option of {qid!r} ({', '.join(info.options)})")
            return False
        if kind == "int":
            if type(value) is not int:
                self.error(path, f"{qid!r} is an int question: compare with a whole number")
                return False
            too_low = info.minimum is not None and value < info.minimum
            too_high = info.maximum is not None and value > info.maximum
            if in_range and (too_low or too_high):
                self.error(path, f"{value!r} is outside the range of {qid!r}")
                return False
        if kind == "text" and not isinstance(value, str):
            self.error(path, f"{qid!r} is a text question: compare with a string")
            return False
        return True

    # sections ----------------------------------------------------------------------------------------
    def load(self, doc: Any) -> RuleSet:
        if not isinstance(doc, Mapping):
            raise RuleSetError("document: must be an object")
        self.keys(
            doc,
            "document",
            ("format", "version", "valid_from", "title", "levels", "questions", "rules", "requirements"),
            ("conditions",),
        )
        if "format" in doc and doc["format"] != FORMAT:
            self.error("format", f"must be {FORMAT!r}")
        version = doc.get("version")
        if "version" in doc and (not isinstance(version, str) or not _VERSION_RE.fullmatch(version)):
            self.error("version", "must be 1-32 characters: letters, digits, '.', '_' or '-'")
        valid_from = self.valid_from(doc["valid_from"]) if "valid_from" in doc else None
        title = self.texts(doc.get("title"), "title") if "title" in doc else None
        levels = self.levels(doc.get("levels"))
        raw_questions = self.question_infos(doc.get("questions"))
        self.definitions_(doc.get("conditions", {}))
        questions = [self.question(raw, f"questions[{i}]") for i, raw in raw_questions]
        rules = self.rules(doc.get("rules"))
        rows = self.requirements(doc.get("requirements"))
        if self.errors:
            raise RuleSetError(self.errors)
        return RuleSet(
            version=version,
            valid_from=valid_from,
            title_nb=title[0],
            title_en=title[1],
            levels=tuple(levels),
            questions=tuple(questions),
            rules=tuple(rules),
            requirement_rows=tuple(rows),
            document=copy.deepcopy(dict(doc)),
        )

    def valid_from(self, value: Any) -> date | None:
        if isinstance(value, str) and _DATE_RE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.error("valid_from", "must be an ISO date (YYYY-MM-DD)")
        return None

    def levels(self, value: Any) -> list[Level]:
        if not isinstance(value, list):
            self.error("levels", "must be a list")
            return []
        levels = []
        for i, raw in enumerate(value):
            path = f"levels[{i}]"
            if not self.obj(raw, path) or not self.keys(raw, path, ("id", "label"), ("requisition",)):
                continue
            if raw["id"] not in LEVELS:
                self.error(f"{path}.id", f"unknown level {raw['id']!r}")
                continue
            requisition = raw.get("requisition", True)
            if not isinstance(requisition, bool):
                self.error(f"{path}.requisition", "must be true or false")
            label = self.texts(raw["label"], f"{path}.label")
            if label is not None:
                levels.append(Level(raw["id"], label[0], label[1], requisition is not False))
        if [level.id for level in levels] != list(LEVELS) and len(levels) == len(value):
            self.error("levels", f"must list exactly {', '.join(LEVELS)} (lowest first)")
        return levels

    def question_infos(self, value: Any) -> list[tuple[int, Mapping]]:
        """First pass: ids, types and value domains, so conditions can refer to any question."""
        if not isinstance(value, list) or not value:
            self.error("questions", "must be a non-empty list")
            return []
        found = []
        for i, raw in enumerate(value):
            path = f"questions[{i}]"
            if not self.obj(raw, path):
                continue
            qid = raw.get("id")
            if not isinstance(qid, str) or not _ID_RE.fullmatch(qid):
                self.error(f"{path}.id", "must be a lowercase identifier (a-z, 0-9, _)")
                continue
            if qid in self.info:
                self.error(f"{path}.id", f"duplicate question id {qid!r}")
                continue
            kind = raw.get("type")
            info = _QInfo(kind if kind in QUESTION_TYPES else None)
            if info.type is None:
                self.error(f"{path}.type", f"must be one of {', '.join(QUESTION_TYPES)}")
            elif kind == "enum":
                info.options = self.options_values(raw.get("options"), f"{path}.options")
            elif kind == "int":
                info.minimum = self.int_or_none(raw, "minimum", path)
                info.maximum = self.int_or_none(raw, "maximum", path)
                if info.minimum is not None and info.maximum is not None and info.minimum > info.maximum:
                    self.error(f"{path}.maximum", "must not be below minimum")
            self.info[qid] = info
            found.append((i, raw))
        return found

    def options_values(self, value: Any, path: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.error(path, "an enum question needs a non-empty list of options")
            return ()
        values = []
        for i, raw in enumerate(value):
            if isinstance(raw, Mapping) and isinstance(raw.get("value"), str) and _ID_RE.fullmatch(raw["value"]):
                if raw["value"] in values:
                    self.error(f"{path}[{i}].value", f"duplicate option {raw['value']!r}")
                values.append(raw["value"])
            else:
                self.error(f"{path}[{i}].value", "must be a lowercase identifier (a-z, 0-9, _)")
        return tuple(values)

    def int_or_none(self, raw: Mapping, key: str, path: str) -> int | None:
        value = raw.get(key)
        if value is not None and type(value) is not int:
            self.error(f"{path}.{key}", "must be a whole number")
            return None
        return value

    def question(self, raw: Mapping, path: str) -> Question | None:
        info = self.info[raw["id"]]
        kind = info.type
        optional = ["help", "required", "default", "asked", "show_when", "required_when", "required_message"]
        optional += {
            "enum": ["options"],
            "int": ["minimum", "maximum"],
            "text": ["max_length", "checks"],
        }.get(kind, [])
        self.keys(raw, path, ("id", "type", "label"), tuple(optional))
        label = self.texts(raw.get("label"), f"{path}.label")
        help_ = self.texts(raw["help"], f"{path}.help") if "help" in raw else ("", "")
        flags = {}
        for key, fallback in (("required", False), ("asked", True)):
            flags[key] = raw.get(key, fallback)
            if not isinstance(flags[key], bool):
                self.error(f"{path}.{key}", "must be true or false")
        options: tuple[Option, ...] = ()
        if kind == "enum" and isinstance(raw.get("options"), list):
            option_list = []
            for i, option in enumerate(raw["options"]):
                option_path = f"{path}.options[{i}]"
                if self.obj(option, option_path) and self.keys(option, option_path, ("value", "label")):
                    option_label = self.texts(option["label"], f"{option_path}.label")
                    if option_label and isinstance(option["value"], str):
                        option_list.append(Option(option["value"], *option_label))
            options = tuple(option_list)
        max_length = None
        if kind == "text":
            max_length = raw.get("max_length", DEFAULT_MAX_LENGTH)
            if type(max_length) is not int or max_length < 1:
                self.error(f"{path}.max_length", "must be a positive whole number")
                max_length = DEFAULT_MAX_LENGTH
        default = self.default(raw, path, info, flags["required"] is True, max_length)
        show_when = self.optional_condition(raw, "show_when", path)
        required_when = self.optional_condition(raw, "required_when", path)
        required_message = ("", "")
        if "required_message" in raw:
            required_message = self.texts(raw["required_message"], f"{path}.required_message") or ("", "")
            if "required_when" not in raw:
                self.error(f"{path}.required_message", "only used with required_when")
        checks = self.checks(raw.get("checks", []), f"{path}.checks") if kind == "text" else ()
        if label is None or help_ is None or kind is None:
            return None
        return Question(
            id=raw["id"],
            type=kind,
            label_nb=label[0],
            label_en=label[1],
            required=flags["required"] is True,
            default=default,
            options=options,
            minimum=info.minimum,
            maximum=info.maximum,
            max_length=max_length,
            help_nb=help_[0],
            help_en=help_[1],
            asked=flags["asked"] is not False,
            show_when=show_when,
            required_when=required_when,
            required_message_nb=required_message[0],
            required_message_en=required_message[1],
            checks=checks,
        )

    def default(self, raw: Mapping, path: str, info: _QInfo, required: bool, max_length: int | None) -> Any:
        if required:
            if "default" in raw:
                self.error(f"{path}.default", "a required question has no default")
            return None
        if "default" not in raw:
            if info.type == "text":
                return ""
            if info.type is not None:
                self.error(path, "an optional question needs a default")
            return None
        value = raw["default"]
        if info.type is None:
            return value
        fits = {
            "bool": isinstance(value, bool),
            "enum": value in info.options,
            "int": type(value) is int
            and (info.minimum is None or value >= info.minimum)
            and (info.maximum is None or value <= info.maximum),
            "text": isinstance(value, str) and len(value) <= (max_length or DEFAULT_MAX_LENGTH),
        }[info.type]
        if not fits:
            self.error(f"{path}.default", f"{value!r} is not a valid {info.type} answer for this question")
        return value.strip() if isinstance(value, str) else value

    def optional_condition(self, raw: Mapping, key: str, path: str) -> Condition | None:
        if key not in raw:
            return None
        return self.condition(raw[key], f"{path}.{key}", reasons=False)

    def checks(self, value: Any, path: str) -> tuple[TextCheck, ...]:
        if not isinstance(value, list):
            self.error(path, "must be a list")
            return ()
        checks = []
        for i, raw in enumerate(value):
            item_path = f"{path}[{i}]"
            if not self.obj(raw, item_path) or not self.keys(raw, item_path, ("when", "min_length"), ("message",)):
                continue
            when = self.condition(raw["when"], f"{item_path}.when", reasons=False)
            min_length = raw["min_length"]
            if type(min_length) is not int or min_length < 1:
                self.error(f"{item_path}.min_length", "must be a positive whole number")
                continue
            message = self.texts(raw["message"], f"{item_path}.message") if "message" in raw else ("", "")
            if when is not None and message is not None:
                checks.append(TextCheck(when, min_length, message[0], message[1]))
        return tuple(checks)

    def definitions_(self, value: Any) -> None:
        if not isinstance(value, Mapping):
            self.error("conditions", "must be an object of named conditions")
            return
        for name, node in value.items():
            if not isinstance(name, str) or not _ID_RE.fullmatch(name):
                self.error(f"conditions.{name}", "a condition name is a lowercase identifier (a-z, 0-9, _)")
                continue
            compiled = self.node(node, f"conditions.{name}", reasons=True)
            if compiled is not None:
                self.definitions[name] = compiled

    def rules(self, value: Any) -> list[Rule]:
        if not isinstance(value, list) or not value:
            self.error("rules", "must be a non-empty list")
            return []
        rules = []
        seen: set[str] = set()
        for i, raw in enumerate(value):
            path = f"rules[{i}]"
            if not self.obj(raw, path) or not self.keys(raw, path, ("id",), ("when", "level", "stop", "reasons")):
                continue
            rule_id = raw["id"]
            if not isinstance(rule_id, str) or not _ID_RE.fullmatch(rule_id):
                self.error(f"{path}.id", "must be a lowercase identifier (a-z, 0-9, _)")
            elif rule_id in seen:
                self.error(f"{path}.id", f"duplicate rule id {rule_id!r}")
            else:
                seen.add(rule_id)
            last = i == len(value) - 1
            if "when" not in raw and not last:
                self.error(path, "only the last rule may omit 'when' (the rules after it could never match)")
            if "when" in raw and last:
                self.error(path, "the last rule must omit 'when', so that every answer set gets a result")
            level, stop = raw.get("level"), raw.get("stop")
            if ("level" in raw) == ("stop" in raw):
                self.error(path, "a rule has exactly one of 'level' and 'stop'")
            elif "level" in raw and level not in LEVELS:
                self.error(f"{path}.level", f"unknown level {level!r}")
            elif "stop" in raw and stop not in STOPS:
                self.error(f"{path}.stop", f"unknown stop {stop!r} (expected {', '.join(STOPS)})")
            when = self.condition(raw["when"], f"{path}.when", reasons=True) if "when" in raw else None
            reasons = self.rule_reasons(raw.get("reasons", []), f"{path}.reasons")
            rules.append(Rule(rule_id, when, level, stop, reasons))
        return rules

    def rule_reasons(self, value: Any, path: str) -> tuple[RuleReason, ...]:
        if not isinstance(value, list):
            self.error(path, "must be a list")
            return ()
        reasons = []
        for i, raw in enumerate(value):
            item_path = f"{path}[{i}]"
            if not self.obj(raw, item_path):
                continue
            when = None
            if "when" in raw:
                when = self.condition(raw["when"], f"{item_path}.when", reasons=False)
                if when is None:
                    continue
            texts = {key: item for key, item in raw.items() if key != "when"}
            reason = self.reason_of(texts, item_path, when.refs if when else frozenset(), None)
            if reason is not None:
                reasons.append(RuleReason(reason, when))
        return tuple(reasons)

    def requirements(self, value: Any) -> list[RequirementRow]:
        if not isinstance(value, list):
            self.error("requirements", "must be a list")
            return []
        rows = []
        for i, raw in enumerate(value):
            path = f"requirements[{i}]"
            if not self.obj(raw, path) or not self.keys(raw, path, ("when", "add")):
                continue
            when = self.condition(raw["when"], f"{path}.when", reasons=False)
            add = raw["add"]
            if not isinstance(add, list) or not add:
                self.error(f"{path}.add", "must be a non-empty list of requirements")
                continue
            bad = [code for code in add if code not in REQUIREMENTS]
            if bad:
                self.error(
                    f"{path}.add",
                    f"unknown requirement {bad[0]!r} (expected one of {', '.join(REQUIREMENTS)})",
                )
                continue
            if when is not None:
                rows.append(RequirementRow(when, tuple(dict.fromkeys(add))))
        return rows


def load_ruleset(document: Mapping[str, Any]) -> RuleSet:
    """Validate a rule-set document and compile it; RuleSetError names every bad path."""
    return _Loader().load(document)


# --- shipped rule sets and choosing one -------------------------------------------------------------


def _shipped_documents() -> dict[str, dict[str, Any]]:
    folder = resources.files("requisitions.rulesets")
    documents = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".json"):
            documents[entry.name] = json.loads(entry.read_text(encoding="utf-8"))
    return documents


@lru_cache(maxsize=1)
def shipped_rulesets() -> tuple[RuleSet, ...]:
    """Every rule set shipped in ``requisitions/rulesets/``, oldest ``valid_from`` first (cached)."""
    loaded = [load_ruleset(document) for document in _shipped_documents().values()]
    return tuple(sorted(loaded, key=lambda rs: rs.valid_from))


@lru_cache(maxsize=1)
def default_ruleset() -> RuleSet:
    """The shipped ``hso-2026.1`` rule set, loaded once."""
    for ruleset in shipped_rulesets():
        if ruleset.version == DEFAULT_VERSION:
            return ruleset
    raise RuleSetError(f"shipped rule set {DEFAULT_VERSION} is missing")  # pragma: no cover


def ruleset_in_force(rulesets: Iterable[RuleSet], on: date) -> RuleSet:
    """The rule set with the latest ``valid_from`` on or before ``on`` (ties: the later one given).

    ``on`` is a local (Europe/Oslo) date; a datetime is refused so the caller converts at the edge."""
    if isinstance(on, datetime) or not isinstance(on, date):
        raise TypeError("ruleset_in_force() needs a date; convert datetimes to Europe/Oslo first.")
    best: RuleSet | None = None
    for ruleset in rulesets:
        if ruleset.valid_from <= on and (best is None or ruleset.valid_from >= best.valid_from):
            best = ruleset
    if best is None:
        raise ValueError(f"No rule set is in force on {on.isoformat()}.")
    return best
