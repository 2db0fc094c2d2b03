"""How a plan becomes each step's own parameters: the Train section's ``TrainArgs`` (through the
parameter table's ``coerce``) and the Compare section's ``GenParams``. Planning (for the disk
estimate) and running use the same two functions."""

from __future__ import annotations

from lib_textinv.autopilot.plan import Plan
from lib_textinv.compare.sweep_run import GenParams
from lib_textinv.train.params import TrainArgs


def train_args(plan: Plan, data_root: str, log_directory: str, loss_csv_every: int = 0) -> TrainArgs:
    """The run's training parameters. Previews are off: the sweep makes the comparison images."""
    return TrainArgs.coerce(
        embedding_name=plan.name,
        data_root=data_root,
        log_directory=log_directory,
        template_filename=plan.template,
        trainer=plan.trainer,
        training_width=plan.width,
        training_height=plan.height,
        steps=plan.steps,
        learn_rate=plan.learn_rate,
        batch_size=plan.batch_size,
        gradient_step=plan.gradient_step,
        save_embedding_every=plan.save_every,
        create_image_every=0,
        shuffle_tags=plan.shuffle_tags,
        tag_drop_out=plan.tag_drop_out,
        latent_sampling_method=plan.latent_sampling,
        loss_csv_every=loss_csv_every,
        preview_width=plan.width,
        preview_height=plan.height,
    )


def gen_params(plan: Plan) -> GenParams:
    return GenParams(
        negative_prompt=plan.negative_prompt,
        sampler=plan.sampler,
        steps=plan.sampling_steps,
        cfg_scale=plan.cfg_scale,
        width=plan.width,
        height=plan.height,
    )
