"""Which learned skills an episode is offered: the verified ones most relevant to its instruction.

Relevance is BM25 (``bm25s``) over the stemmed words of each skill's name, docstring,
the task it was written in and the tasks it was verified on; any ranking with
:class:`Retriever`'s interface (an embedding model, say) can stand in for it. A skill is
offered only when it and every library skill it calls, at the versions it was verified with,
are verified; the skills it calls are loaded with it.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from codeact_robot.envs.tasks import get_task
from codeact_robot.errors import UnknownNameError, UsageError
from codeact_robot.library.files import SkillLibrary
from codeact_robot.library.skill import LearnedSkill, callees, load_conflict

WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
STOPWORDS = frozenset(
    "a an and are as at be by for from if in into is it its of on or the their then there these this to with "
    "all any each every one".split()
)


class Retriever(Protocol):
    """Ranks a fixed set of documents against queries."""

    def top(self, query: str, k: int) -> list[int]:
        """The indices of at most ``k`` documents relevant to ``query`` (score above zero), best first."""


RetrieverFactory = Callable[[Sequence[str]], Retriever]
"""Builds a retriever over documents (one per skill); :class:`BM25Retriever` is the default."""

Stemmer = Callable[[list[str]], list[str]]
"""Maps words to their stems, one for one (``"blocks"`` and ``"block"`` to ``"block"``)."""


def snowball() -> Stemmer:
    """The Snowball English stemmer (PyStemmer): chosen on recall in ``benchmarks/skills_retrieval.py``."""
    import Stemmer  # imported here: only processes that retrieve load it

    return Stemmer.Stemmer("english").stemWords


def words(text: str, stem: Stemmer | None = None) -> list[str]:
    """Lower-case words of a text, ``snake_case`` and ``CamelCase`` split, stopwords left out, stemmed if asked."""
    found = [w for w in (m.lower() for m in WORD.findall(text)) if w not in STOPWORDS]
    return stem(found) if stem is not None else found


class BM25Retriever:
    """Okapi BM25 over the documents' stemmed words (``bm25s``: sparse matrices, a query in well under a millisecond).

    Args:
        documents: the texts to rank.
        stem: the stemmer for documents and queries alike (default: :func:`snowball`; ``list`` keeps
            words as they are).
    """

    def __init__(self, documents: Sequence[str], stem: Stemmer | None = None) -> None:
        import bm25s  # imported here: scipy loads only in processes that retrieve

        self._stem = stem if stem is not None else snowball()
        self._size = len(documents)
        self._bm25 = bm25s.BM25()
        if documents:
            # An empty document would leave bm25s without a vocabulary for it; a placeholder word keeps rows aligned.
            self._bm25.index([words(d, self._stem) or ["\x00"] for d in documents], show_progress=False)

    def top(self, query: str, k: int) -> list[int]:
        terms = [w for w in words(query, self._stem) if w in self._bm25.vocab_dict] if self._size else []
        if not terms or k <= 0:
            return []
        scores = np.asarray(self._bm25.get_scores(terms))
        count = min(k, self._size)
        best = np.argpartition(-scores, count - 1)[:count]
        ranked = sorted(best.tolist(), key=lambda i: (-scores[i], i))
        return [i for i in ranked if scores[i] > 0]


def skill_document(skill: LearnedSkill) -> str:
    """What retrieval matches a skill by: its name, its docstring, the task it was written in and those it was
    verified on (each task by its name and description)."""
    parts = [skill.name, skill.doc]
    verdict = skill.meta.verdict
    verified_on = verdict.tasks if verdict is not None and skill.status == "verified" else ()
    for task in dict.fromkeys([skill.meta.provenance.task, *verified_on]):
        if task:
            parts.append(task)
            with contextlib.suppress(UnknownNameError):
                parts.append(get_task(task).description)
    return "\n".join(parts)


class SkillIndex:
    """The offerable skills of a library and a retriever over them.

    Args:
        skills: every version of every skill (``SkillLibrary.skills()``).
        retriever: builds the ranking over the offerable skills' documents.
    """

    def __init__(self, skills: Sequence[LearnedSkill], retriever: RetrieverFactory = BM25Retriever) -> None:
        self._versions = {(s.name, s.version): s for s in skills}
        self.offered = offerable(skills)
        self._retriever = retriever([skill_document(s) for s in self.offered])

    def retrieve(self, query: str, k: int) -> list[LearnedSkill]:
        """The ``k`` offerable skills most relevant to ``query``, best first, then the skills they call.

        A skill that needs a version of a name other than one a better-ranked skill needs
        is left out (a name holds one function in a sandbox).
        """
        loaded: dict[str, LearnedSkill] = {}  # name -> the version loaded under it
        chosen: list[LearnedSkill] = []
        for index in self._retriever.top(query, k):
            skill = self.offered[index]
            needed = [skill, *callees(skill, self._versions)]
            together = dict(loaded)
            if all(together.setdefault(s.name, s).version == s.version for s in needed):  # each name at one version
                loaded = together
                chosen.append(skill)
        return [*chosen, *(s for s in loaded.values() if s not in chosen)]


_CACHE_SIZE = 4
_cache: OrderedDict[tuple[object, ...], SkillIndex] = OrderedDict()
_cache_lock = threading.Lock()


def skill_index(skills: Sequence[LearnedSkill]) -> SkillIndex:
    """A :class:`SkillIndex` over ``skills``, shared by the episodes of this process while they are unchanged.

    Building the retriever is the costly part of an episode's retrieval (a fraction of a
    second for 10,000 skills); an evaluation's episodes read the same library over and over.
    """
    key = tuple(
        (s.ref, s.sha256, s.status, s.meta.provenance.task, s.meta.verdict, tuple(sorted(s.meta.calls.items())))
        for s in skills
    )
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    index = SkillIndex(skills)
    with _cache_lock:
        _cache[key] = index
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return index


def offerable(skills: Sequence[LearnedSkill]) -> list[LearnedSkill]:
    """Each name's newest version that is verified and can be loaded with what it calls.

    That is: every version it calls, directly or not, is there and verified, no name is
    among them twice (a name holds one function in a sandbox), and none calls it back.
    """
    versions = {(s.name, s.version): s for s in skills}
    newest: dict[str, LearnedSkill] = {}
    for skill in sorted(skills, key=lambda s: (s.name, s.version)):
        if skill.status == "verified" and _sound(skill, versions):
            newest[skill.name] = skill
    return list(newest.values())


def _sound(skill: LearnedSkill, versions: dict[tuple[str, int], LearnedSkill]) -> bool:
    """Whether the versions a skill calls are there and verified, each name once, none of them the skill."""
    try:
        called = callees(skill, versions)
    except UsageError:  # a version it calls is missing
        return False
    return load_conflict(skill, called) is None and all(s.status == "verified" for s in called)


def library_fingerprint(library: SkillLibrary) -> str:
    """What a library offers, as one hash: every offerable version's reference and source (16 hex digits)."""
    offered = offerable(library.skills())
    text = "\n".join(f"{skill.ref}:{skill.sha256}" for skill in offered)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
