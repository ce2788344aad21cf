"""The scoring rubric as data: questions, prompt templates, answer words, version and hash.

A rubric is read from a TOML file (the packaged ones live in ``jobimpact/scoring/rubrics``).
It is pure data: backends turn it into prompts, and each question's role tells which
measure its probability feeds (:mod:`jobimpact.measures`).

The prompt of one (task, question) pair is a chat with a system message
(:attr:`Rubric.system`) and a user message ``task_block + joiner + question_block``.
The system text is shared by all prompts and each task block by that task's questions,
which is what lets the engine encode each part only once.
"""

from __future__ import annotations

import hashlib
import json
import string
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jobimpact.errors import ConfigError
from jobimpact.measures import ROLES

__all__ = [
    "DEFAULT_RUBRIC",
    "Question",
    "Rubric",
    "available_rubrics",
    "load_rubric",
]

DEFAULT_RUBRIC = "exposure"
RUBRIC_DIR = Path(__file__).parent / "rubrics"


@dataclass(frozen=True, slots=True)
class Question:
    """One Yes/No question of a rubric.

    Attributes
    ----------
    key : str
        Stable identifier (``direct``, ``software``, ...), used as column name.
    label : str
        Short name shown in the prompt, e.g. ``Direct``.
    prompt : str
        The question text asked after the task.
    role : str or None
        Which of the :data:`~jobimpact.measures.ROLES` the answer plays in the measures;
        by default the key itself when the key is a role name, else none (the answer is
        stored but feeds no measure).
    """

    key: str
    label: str
    prompt: str
    role: str | None = None

    @property
    def measure_role(self) -> str | None:
        """The role of the answer in the measures (see :attr:`role`)."""
        if self.role is not None:
            return self.role
        return self.key if self.key in ROLES else None


@dataclass(frozen=True, slots=True)
class Rubric:
    """A versioned set of Yes/No questions and the templates to ask them.

    Attributes
    ----------
    name, version : str
        Identify the rubric; bump the version whenever a text changes.
    system : str
        System (preamble) text shared by every prompt.
    task_template : str
        Template of the task block, with ``{occupation}`` and ``{task}`` fields.
    joiner : str
        Text between the task block and the question block in the user message.
    question_template : str
        Template of the question block, with ``{label}`` and ``{prompt}`` fields.
    questions : tuple of Question
        The questions, in order.
    yes, no : str
        Answer words.
    """

    name: str
    version: str
    system: str
    task_template: str
    joiner: str
    question_template: str
    questions: tuple[Question, ...]
    yes: str = "Yes"
    no: str = "No"
    _hash: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._validate()
        digest = hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()
        object.__setattr__(self, "_hash", digest)

    @property
    def hash(self) -> str:
        """Sha256 (hex) of :meth:`canonical`; identifies the exact wording used."""
        return self._hash

    @property
    def keys(self) -> tuple[str, ...]:
        """Question keys in order."""
        return tuple(q.key for q in self.questions)

    @property
    def roles(self) -> dict[str, str]:
        """Question key → its role in the measures, for the questions that have one."""
        return {q.key: role for q in self.questions if (role := q.measure_role) is not None}

    def canonical(self) -> str:
        """Return the canonical JSON serialisation (sorted keys, no spaces) that is hashed.

        A question's role appears only when it is set to something other than its key, so
        rubrics written before roles existed keep their hash.
        """
        data = asdict(self)
        data.pop("_hash", None)
        for question in data["questions"]:
            if question["role"] in (None, question["key"]):
                del question["role"]
        return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def task_block(self, *, occupation: str, task: str) -> str:
        """Render the task block for one task (whitespace at both ends is stripped)."""
        return self.task_template.format(occupation=occupation.strip(), task=task.strip())

    def question_block(self, key: str) -> str:
        """Render the question block for the question ``key``."""
        question = self.question(key)
        return self.question_template.format(label=question.label, prompt=question.prompt)

    def question(self, key: str) -> Question:
        """Return the question with ``key``; raise ConfigError when there is none."""
        for question in self.questions:
            if question.key == key:
                return question
        expected = ", ".join(self.keys)
        raise ConfigError(
            f"rubric {self.name!r}: got question key {key!r}, expected one of {expected}"
        )

    def user_message(self, *, occupation: str, task: str, key: str) -> str:
        """Render the full user message for one (task, question) pair."""
        task_block = self.task_block(occupation=occupation, task=task)
        return task_block + self.joiner + self.question_block(key)

    def _validate(self) -> None:
        """Check fields and templates; raise ConfigError naming the rubric and field."""
        where = f"rubric {self.name!r}"
        if not self.questions:
            raise ConfigError(f"{where}, field 'questions': got none, expected at least one")
        keys = [q.key for q in self.questions]
        if len(set(keys)) != len(keys):
            raise ConfigError(f"{where}, field 'questions': got duplicate keys {keys}")
        roles = [q.measure_role for q in self.questions if q.measure_role is not None]
        unknown = sorted(set(roles) - set(ROLES))
        if unknown or len(set(roles)) != len(roles):
            raise ConfigError(
                f"{where}, field 'role': got {roles}, expected each of "
                f"{', '.join(ROLES)} at most once"
            )
        if self.yes == self.no or not self.yes.strip() or not self.no.strip():
            raise ConfigError(
                f"{where}: got answers {self.yes!r}/{self.no!r}, expected two different words"
            )
        _check_fields(where, "task_template", self.task_template, {"occupation", "task"})
        _check_fields(where, "question_template", self.question_template, {"label", "prompt"})


def _check_fields(where: str, name: str, template: str, expected: set[str]) -> None:
    """Raise ConfigError unless ``template`` uses exactly the ``expected`` format fields."""
    try:
        found = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as exc:
        raise ConfigError(f"{where}, field {name!r}: got a malformed template ({exc})") from exc
    if found != expected:
        raise ConfigError(
            f"{where}, field {name!r}: got fields {sorted(found)}, expected {sorted(expected)}"
        )


def available_rubrics() -> list[str]:
    """Return the names of the rubrics shipped with jobimpact."""
    return sorted(p.stem for p in RUBRIC_DIR.glob("*.toml"))


def load_rubric(spec: str | Path = DEFAULT_RUBRIC) -> Rubric:
    """Load a rubric by packaged name or from a TOML file.

    Parameters
    ----------
    spec : str or Path
        A packaged rubric name (see :func:`available_rubrics`) or a path to a TOML file
        with the fields of :class:`Rubric` and a ``[[questions]]`` array.

    Returns
    -------
    Rubric

    Raises
    ------
    ConfigError
        When the name is unknown or the file is missing or malformed.
    """
    path = Path(spec)
    if not path.suffix:
        path = RUBRIC_DIR / f"{spec}.toml"
        if not path.is_file():
            raise ConfigError(
                f"rubric: got {str(spec)!r}, expected a TOML file or one of "
                f"{', '.join(available_rubrics())}"
            )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path.name}: file not found, expected a rubric TOML file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: got invalid TOML ({exc}), expected a rubric") from exc
    return _rubric_from_dict(data, source=path.name)


def _rubric_from_dict(data: Mapping[str, Any], *, source: str) -> Rubric:
    """Build a Rubric from parsed TOML, raising ConfigError naming ``source`` and the field."""
    text_fields = ("name", "version", "system", "task_template", "joiner", "question_template")
    values: dict[str, str] = {}
    for name in (*text_fields, "yes", "no"):
        value = data.get(name, "Yes" if name == "yes" else "No" if name == "no" else None)
        if not isinstance(value, str):
            raise ConfigError(
                f"{source}, field {name!r}: got {type(value).__name__}, expected a string"
            )
        values[name] = value
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list):
        raise ConfigError(f"{source}, field 'questions': got none, expected [[questions]] tables")
    questions = []
    for i, raw in enumerate(raw_questions, start=1):
        try:
            questions.append(
                Question(
                    key=raw["key"], label=raw["label"], prompt=raw["prompt"], role=raw.get("role")
                )
            )
        except (KeyError, TypeError) as exc:
            raise ConfigError(
                f"{source}, question {i}: got {raw!r}, expected key, label and prompt"
            ) from exc
    return Rubric(questions=tuple(questions), **values)
