"""Perturbations of a task's episodes, as in LIBERO-PRO: the same goal, asked or laid out a little differently.

Each perturbation draws from a random stream of its own (the seed's), so the unperturbed
scene underneath stays the same and the same seed gives the same perturbed episode:

- ``paraphrase``: the instruction in other words, from the family's paraphrase templates
  (the seen colour split draws from ``paraphrases``; the unseen and all splits from
  ``held_out_paraphrases``, which seen episodes never use);
- ``distractors``: up to that many extra objects the instruction does not mention, of
  kinds the family's goal is indifferent to (one that finds no free spot is left out);
- ``unseen_colours``: the scene's colours drawn from the unseen split (colours no seen
  episode uses), whatever the configured split;
- ``layout_shift``: every object moved together by this many metres in a seeded direction
  (the first of eight, from a seeded start, that keeps the scene inside the workspace and
  its goal not yet met; none that does leaves the layout where it was).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Perturbation:
    """What to perturb in an episode (the environment's ``perturbation`` setting, as plain data).

    Attributes:
        paraphrase: ask with a paraphrase template.
        distractors: extra objects to add.
        unseen_colours: draw the scene's colours from the unseen split.
        layout_shift: metres to move the whole layout by.
    """

    paraphrase: bool
    distractors: int
    unseen_colours: bool
    layout_shift: float

    @property
    def active(self) -> bool:
        """Whether anything is perturbed."""
        return self.paraphrase or self.distractors > 0 or self.unseen_colours or self.layout_shift > 0
