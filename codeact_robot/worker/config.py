"""The environment's settings: one typed object, every default written here once.

``gym.make(id, config=EnvConfig(...))`` or ``gym.make(id, **overrides)`` build it, the
YAML run configuration embeds it (``env:``), and the episode worker receives it whole.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from codeact_robot.envs.imaging import DEFAULT_RENDERER, IMAGE_SIZE, RendererMode
from codeact_robot.envs.objects import DEFAULT_SPLIT
from codeact_robot.envs.perturbation import Perturbation
from codeact_robot.envs.physics import SIM_RATE_HZ
from codeact_robot.errors import UsageError, settings_error, unknown_name_error
from codeact_robot.skills.registry import DEFAULT_API, ApiTier

Camera = Literal["front", "top"]
VideoCamera = Literal["front", "top", "both"]
MIN_IMAGE_SIDE = 16
MAX_IMAGE_SIDE = 2048  # pixels: a larger camera would need gigabytes per episode
MAX_TURNS = 10_000


class Limits(BaseModel):
    """What one code action may use.

    Attributes:
        time_limit_s: wall-clock seconds per code action.
        memory_limit_mb: address-space cap of the executor (and of the simulator) process.
        max_output_chars: printed characters shown to the model.
        max_sim_steps: physics steps per code action (``SIM_RATE_HZ`` per simulated second).
        max_recursion: Python call depth available to the program.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_limit_s: float = Field(60.0, gt=0, le=3600)
    memory_limit_mb: int = Field(4096, ge=512, le=2**24)  # 16 TiB: beyond it a cap is no number
    max_output_chars: int = Field(2000, gt=0, le=100_000)
    max_sim_steps: int = Field(300 * SIM_RATE_HZ, gt=0, le=2**53)  # counted exactly in a float too
    max_recursion: int = Field(200, ge=50, le=5000)

    @property
    def max_sim_s(self) -> float:
        """The simulation limit in simulated seconds."""
        return self.max_sim_steps / SIM_RATE_HZ


class PhysicsConfig(BaseModel):
    """Imperfect physics, each effect deterministic per episode seed; all off (0) by default.

    Attributes:
        grasp_slip: probability that a grasp slips: the fingers close on the object, and it
            stays behind when the arm moves (``pick`` returns False, ``is_holding`` is false).
        state_noise: standard deviation, metres, of the offset added to every object
            position and box a program (and the skills) read; one offset per object per scene change.
        variation: relative variation of every object's mass and friction (uniform in ±variation).
        disturbance: probability per turn that a visible block or cup is nudged 4-8 cm
            (or knocked off a tower) after the program ends; the next observation shows it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    grasp_slip: float = Field(0.0, ge=0.0, le=1.0)
    state_noise: float = Field(0.0, ge=0.0, le=0.05)
    variation: float = Field(0.0, ge=0.0, le=0.5)
    disturbance: float = Field(0.0, ge=0.0, le=1.0)

    @property
    def perfect(self) -> bool:
        """Whether every effect is off."""
        return not any(self.model_dump().values())


class PerturbationConfig(BaseModel):
    """Perturbations of task episodes, as in LIBERO-PRO (see ``envs/perturbation.py``); all off by default.

    Attributes:
        paraphrase: ask with a paraphrase of the family's instruction (held-out
            paraphrases for the unseen colour split).
        distractors: extra objects the instruction does not mention.
        unseen_colours: draw scene colours from the unseen split whatever ``colours`` says.
        layout_shift: metres by which the whole layout is moved, in a seeded direction.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    paraphrase: bool = False
    distractors: int = Field(0, ge=0, le=6)
    unseen_colours: bool = False
    layout_shift: float = Field(0.0, ge=0.0, le=0.1)

    def plain(self) -> Perturbation:
        """The same settings as the task layer's plain data."""
        return Perturbation(self.paraphrase, self.distractors, self.unseen_colours, self.layout_shift)


class EnvConfig(BaseModel):
    """Settings of a CodeAct environment and of its episode worker.

    Attributes:
        perception: ``"state"`` (simulator poses of visible objects) or ``"vision"``
            (poses estimated from the RGB-D images).
        colours: colour split of task scenes: ``"seen"``, ``"unseen"`` or ``"all"``.
        camera_size: (width, height) of camera images.
        renderer: ``"auto"``, ``"tiny"`` or ``"egl"``.
        limits: per-action limits; ``gym.make`` also takes their fields as keywords.
        max_turns: turn budget (None: the task's own).
        end_on_success: end the episode as soon as the success check holds.
        cameras: cameras whose images come back after every action (``info["images"]``);
            the front camera always does, since it is the observation's ``rgb``.
        video_fps: when set, the scene's poses at this rate (simulated time) come back
            too (``info["poses"]``), each reply's last one the scene as it is then;
            ``CodeActEnv.render_video`` draws them as video frames.
        video_camera: what the video frames show: ``"front"`` (a view for people, from behind
            the robot, whose left is the robot's left; not the agent's front camera),
            ``"top"`` (the top camera) or ``"both"`` side by side.
        skill_library: the folder of the skill library: at reset the verified skills most
            relevant to the instruction are loaded from it, and ``save_skill`` stores there
            (None: the user's own library, in the user data folder).
        skills_top_k: how many learned skills an episode is offered (and loads, with the
            library skills they call); 0 turns the library off, ``save_skill`` included.
        strict_isolation: refuse to run when the worker cannot confine itself at the OS
            level (Landlock, seccomp); otherwise it says so once and runs.
        api: the API tier programs see: ``"high"`` (every skill), ``"primitive"`` (no
            compound motions) or ``"pixels"`` (primitive without object state).
        physics: imperfect physics (:class:`PhysicsConfig`); perfect by default.
        perturbation: perturbations of the task's episodes (paraphrase, distractors,
            unseen colours, layout shift); all off by default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    perception: Literal["state", "vision"] = "state"
    colours: Literal["seen", "unseen", "all"] = DEFAULT_SPLIT
    camera_size: tuple[int, int] = IMAGE_SIZE
    renderer: RendererMode = DEFAULT_RENDERER
    limits: Limits = Field(default_factory=Limits)
    max_turns: int | None = Field(None, gt=0, le=MAX_TURNS)
    end_on_success: bool = True
    cameras: tuple[Camera, ...] = ("front",)
    video_fps: float | None = Field(None, gt=0, le=60)
    video_camera: VideoCamera = "front"
    skill_library: str | None = None
    skills_top_k: int = Field(5, ge=0, le=100)
    strict_isolation: bool = False
    api: ApiTier = DEFAULT_API
    physics: PhysicsConfig = Field(default_factory=PhysicsConfig)
    perturbation: PerturbationConfig = Field(default_factory=PerturbationConfig)

    @property
    def video_size(self) -> tuple[int, int]:
        """(width, height) of a video frame: a camera image, or two side by side."""
        width, height = self.camera_size
        return (2 * width if self.video_camera == "both" else width), height

    @field_validator("camera_size")
    @classmethod
    def _sensible_size(cls, size: tuple[int, int]) -> tuple[int, int]:
        if not all(MIN_IMAGE_SIDE <= side <= MAX_IMAGE_SIDE for side in size):
            raise ValueError(f"width and height must be {MIN_IMAGE_SIDE} to {MAX_IMAGE_SIDE} pixels, got {size}")
        return size

    @field_validator("cameras")
    @classmethod
    def _front_first(cls, cameras: tuple[Camera, ...]) -> tuple[Camera, ...]:
        return tuple(dict.fromkeys(("front", *cameras)))

    def with_overrides(
        self, overrides: dict[str, Any], source: str = "the environment's keyword arguments"
    ) -> EnvConfig:
        """A copy with ``overrides`` applied; limit fields may be given at the top level.

        Raises:
            UsageError: naming every bad setting and what is valid.
        """
        valid = [*EnvConfig.model_fields, *Limits.model_fields]
        for name in overrides:
            if name not in valid:
                raise UsageError(f"invalid settings in {source}: {unknown_name_error('setting', name, valid)}")
        data = self.model_dump()
        for name, value in overrides.items():
            if name in Limits.model_fields:
                data["limits"][name] = value
            elif name in ("limits", "physics", "perturbation") and isinstance(value, dict):
                data[name].update(value)
            else:
                data[name] = value
        try:
            return EnvConfig.model_validate(data)
        except ValidationError as error:
            raise settings_error(source, EnvConfig, error) from None
