"""Pre-flight checks that depend on the trainer: ours (SD1, SD2, SDXL through the host's
``TrainModel``) or the webui's, and what both share that the webui never checked: a template
without ``[name]`` trains nothing, an embedding made on another model."""

from __future__ import annotations

from pathlib import Path

from lib_textinv.kit.embedding_file import EmbeddingFileError, load_embedding
from lib_textinv.kit.host import Host, ModelFacts, Unavailable
from lib_textinv.train.own_run import find_start
from lib_textinv.train.params import TrainArgs
from lib_textinv.train.preflight_report import ERROR, OK, WARNING, PreflightReport


def check_own_model(host: Host, rep: PreflightReport) -> ModelFacts:
    """Whether our trainer can train on the loaded model (SDXL included)."""
    facts = host.model_facts()
    try:
        model = host.train_model()
    except Unavailable as e:
        rep.add(
            "model",
            ERROR,
            f"our trainer cannot train on {facts.name or 'the loaded model'}: {e}",
            "load an SD1, SD2 or SDXL checkpoint",
        )
        return facts
    rep.add("model", OK, f"{facts.name} ({model.family}) can be trained by our trainer")
    return facts


def check_own_options(args: TrainArgs, rep: PreflightReport) -> None:
    """The webui-trainer options ours does not offer, said before the run rather than ignored."""
    if args.varsize:
        rep.add(
            "varsize",
            ERROR,
            "our trainer resizes every image to the training size",
            'turn off "Do not resize images", or choose the webui\'s trainer',
        )
    if args.use_weight:
        rep.add(
            "use_weight",
            ERROR,
            "our trainer does not weight the loss by PNG alpha",
            'turn off "Use PNG alpha as loss weight", or choose the webui\'s trainer',
        )
    if args.create_image_every:
        rep.add(
            "previews",
            OK,
            "our trainer makes no preview images while training: Compare's sweep "
            "shows the checkpoints side by side with fixed seeds",
        )
    if args.stop_when_flat and not args.eval_every:
        rep.add(
            "stop_when_flat",
            ERROR,
            '"Stop when it flattens" needs the fixed-batch loss',
            'set "Fixed-batch loss every N steps" above 0',
        )


def own_initial_step(host: Host, args: TrainArgs, rep: PreflightReport) -> int | None:
    """The step our trainer starts from (the embedding's, or its newest checkpoint's with
    "continue"); None when there is no embedding file (``check_embedding`` says so)."""
    try:
        start = find_start(host, args)
    except FileNotFoundError:
        return None
    if start.from_checkpoint:
        rep.add(
            "resume",
            OK,
            f"continues from its newest checkpoint {start.path.name} (step {start.step})",
            'turn off "Continue from … newest checkpoint" to start from the embedding itself',
        )
    if start.step >= args.steps:
        rep.add(
            "steps",
            ERROR,
            f"{args.embedding_name} is already at step {start.step} ({start.path.name}) "
            f"and max steps is {args.steps}",
            f"max steps counts from zero: set it above {start.step}",
        )
    return start.step


def check_template_name(args: TrainArgs, template_path: str | None, rep: PreflightReport) -> None:
    """A template without ``[name]`` never puts the embedding in a prompt: nothing is learned."""
    if not template_path:
        return
    try:
        lines = Path(template_path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return  # the template check reports an unreadable file
    missing = [ln for ln in lines if ln.strip() and "[name]" not in ln]
    if lines and len(missing) == len([ln for ln in lines if ln.strip()]):
        rep.add(
            "template-name",
            ERROR,
            f"{args.template_filename} has no [name]: the embedding never "
            "appears in a prompt, so training would learn nothing",
            "pick a template with [name]",
        )
    elif missing:
        rep.add(
            "template-name",
            WARNING,
            f"{len(missing)} line(s) of {args.template_filename} have no "
            "[name]: those prompts teach the embedding nothing",
            "add [name] to them",
        )


def check_base_model(host: Host, args: TrainArgs, facts: ModelFacts, rep: PreflightReport) -> None:
    """An embedding trained on another checkpoint stores that checkpoint's hash: say so."""
    info = {e.name: e for e in host.embeddings()}.get(args.embedding_name)
    if info is None or not info.filename or not facts.short_hash:
        return
    try:
        stored = load_embedding(info.filename)
    except EmbeddingFileError:
        return
    if stored.sd_checkpoint and not facts.short_hash.startswith(stored.sd_checkpoint[:10]):
        made_on = stored.sd_checkpoint_name or stored.sd_checkpoint
        rep.add(
            "base-model",
            WARNING,
            f"{args.embedding_name} was trained on {made_on}, but {facts.name or 'another model'} is loaded",
            "load the model it was made on, or go on knowingly (it learns on the loaded one from here)",
        )
