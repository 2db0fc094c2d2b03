"""modules/textual_inversion/textual_inversion.py (v1.10.1), the parts our bridge calls.

Behaviour kept from the real module: templates dict keyed by file name (:23-36); Embedding.save's
pickle layout (:54-71); the database's reload clears hand-registered entries (:212-243), and
without ``force_reload`` happens only when an embeddings folder's mtime changed (:91-108,
:212-222); ``register_embedding_by_name`` tokenizes the name with ``model.cond_stage_model`` and
removes the old ``ids_lookup`` entry by ``Embedding.name`` (:129-150, the stale-entry trap);
``create_embedding`` argument order and errors (:259-284); ``train_embedding``'s 30 positional
parameters (:400), its asserts, its folders and files (the run folder dated at the start, the
settings file written into it without creating it, checkpoints named with the off-by-one
``embedding.step + 1``, the loss CSV every ``training_write_csv_every`` steps), and the in-loop
error it reports through ``errors.report`` and then returns normally without the final save
(:679-680; docs/webui-contract.md §12-§14). The "model" is a deterministic stand-in
(modules/_tiny_model.py); one "step" adds 0.001 to every vector. torch is imported lazily (the real
webui has it loaded already) so start-up tests see only our own imports.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from collections import namedtuple

from modules import errors, shared

TextualInversionTemplate = namedtuple("TextualInversionTemplate", ["name", "path"])
textual_inversion_templates: dict = {}


def list_textual_inversion_templates():  # :27-36
    textual_inversion_templates.clear()
    d = shared.cmd_opts.textual_inversion_templates_dir
    for root, _, fns in os.walk(d or ""):
        for fn in fns:
            textual_inversion_templates[fn] = TextualInversionTemplate(fn, os.path.join(root, fn))
    return textual_inversion_templates


class Embedding:  # :39-88
    def __init__(self, vec, name, step=None):
        self.vec = vec
        self.name = name
        self.step = step
        self.shape = None
        self.vectors = 0
        self.cached_checksum = None
        self.sd_checkpoint = None
        self.sd_checkpoint_name = None
        self.optimizer_state_dict = None
        self.filename = None
        self.hash = None
        self.shorthash = None

    def save(self, filename):  # :54-71
        import torch

        torch.save(
            {
                "string_to_token": {"*": 265},
                "string_to_param": {"*": self.vec},
                "name": self.name,
                "step": self.step,
                "sd_checkpoint": self.sd_checkpoint,
                "sd_checkpoint_name": self.sd_checkpoint_name,
            },
            filename,
        )

    def set_hash(self, v):
        self.hash = v
        self.shorthash = v[:12]


class DirWithTextualInversionEmbeddings:  # :91-108
    def __init__(self, path):
        self.path = path
        self.mtime = None

    def has_changed(self):
        if not os.path.isdir(self.path):
            return False
        mt = os.path.getmtime(self.path)
        return self.mtime is None or mt > self.mtime

    def update(self):
        if os.path.isdir(self.path):
            self.mtime = os.path.getmtime(self.path)


class EmbeddingDatabase:  # :111-256
    def __init__(self):
        self.ids_lookup = {}
        self.word_embeddings = {}
        self.skipped_embeddings = {}
        self.expected_shape = -1
        self.embedding_dirs = {}
        self.reloads = 0  # double only: how many times the database was really reloaded

    def add_embedding_dir(self, path):  # :120-121
        self.embedding_dirs[path] = DirWithTextualInversionEmbeddings(path)

    def clear_embedding_dirs(self):
        self.embedding_dirs.clear()

    def register_embedding(self, embedding, model):
        return self.register_embedding_by_name(embedding, model, embedding.name)

    def register_embedding_by_name(self, embedding, model, name):  # :129-150
        ids = model.cond_stage_model.tokenize([name])[0]
        first_id = ids[0]
        if first_id not in self.ids_lookup:
            self.ids_lookup[first_id] = []
        if name in self.word_embeddings:
            # remove old one from the lookup list — by the stored Embedding.name (:136)
            lookup = [x for x in self.ids_lookup[first_id] if x[1].name != name]
        else:
            lookup = self.ids_lookup[first_id]
        if embedding is not None:
            lookup += [(ids, embedding)]
        self.ids_lookup[first_id] = sorted(lookup, key=lambda x: len(x[0]), reverse=True)
        if embedding is None:
            if name in self.word_embeddings:
                del self.word_embeddings[name]
            if len(self.ids_lookup[first_id]) == 0:
                del self.ids_lookup[first_id]
            return None
        self.word_embeddings[name] = embedding
        return embedding

    def get_expected_shape(self):  # :152-155
        m = shared.sd_model_for_double()
        return m.embedding_width

    def load_from_file(self, path, filename):  # :157-192 (.pt/.bin/.safetensors only here)
        name, ext = os.path.splitext(filename)
        ext = ext.upper()
        import torch

        if ext in (".PT", ".BIN"):
            data = torch.load(path, map_location="cpu", weights_only=True)
        elif ext == ".SAFETENSORS":
            import safetensors.torch

            data = safetensors.torch.load_file(path, device="cpu")
        else:
            return
        embedding = create_embedding_from_data(data, name, filename=filename, filepath=path)
        if self.expected_shape == -1 or self.expected_shape == embedding.shape:
            self.register_embedding(embedding, shared.sd_model)
        else:
            self.skipped_embeddings[name] = embedding

    def load_from_dir(self, embdir):  # :195-210
        if not os.path.isdir(embdir.path):
            return
        for root, _, fns in os.walk(embdir.path, followlinks=True):
            for fn in fns:
                try:
                    fullfn = os.path.join(root, fn)
                    if os.stat(fullfn).st_size == 0:
                        continue
                    self.load_from_file(fullfn, fn)
                except Exception:  # :208-210: reported, then the next file
                    errors.report(f"Error loading embedding {fn}", exc_info=True)

    def load_textual_inversion_embeddings(self, force_reload=False):  # :212-243
        if not force_reload and not any(d.has_changed() for d in self.embedding_dirs.values()):
            return
        self.ids_lookup.clear()
        self.word_embeddings.clear()
        self.skipped_embeddings.clear()
        self.expected_shape = self.get_expected_shape()
        for embdir in self.embedding_dirs.values():
            self.load_from_dir(embdir)
            embdir.update()
        # re-keyed by Embedding.name, sorted case-insensitively, in the same dict object (:232-236)
        ordered = {e.name: e for e in sorted(self.word_embeddings.values(), key=lambda e: e.name.lower())}
        self.word_embeddings.clear()
        self.word_embeddings.update(ordered)
        self.reloads += 1

    def find_embedding_at_position(self, tokens, offset):  # :245-256
        possible_matches = self.ids_lookup.get(tokens[offset], None)
        if possible_matches is None:
            return None, None
        for ids, embedding in possible_matches:
            if tokens[offset : offset + len(ids)] == ids:
                return embedding, len(ids)
        return None, None


def create_embedding(name, num_vectors_per_token, overwrite_old, init_text="*"):  # :259-284
    import torch

    m = shared.sd_model_for_double()
    if m.is_sdxl:  # :263: cond_model([""]) into sgm's GeneralConditioner (sgm modules.py:141)
        raise TypeError("list indices must be integers or slices, not str")
    with torch.no_grad():  # :266-272: the init text's token vectors, spread over the vectors
        embedded = m.cond_stage_model.encode_embedding_init_text(init_text or "*", num_vectors_per_token)
        vec = torch.zeros((num_vectors_per_token, embedded.shape[1]))
        if init_text:
            for i in range(num_vectors_per_token):
                vec[i] = embedded[i * int(embedded.shape[0]) // num_vectors_per_token]
    name = "".join(x for x in name if (x.isalnum() or x in "._- "))  # :275
    fn = os.path.join(shared.cmd_opts.embeddings_dir, f"{name}.pt")
    if not overwrite_old:
        assert not os.path.exists(fn), f"file {fn} already exists"
    embedding = Embedding(vec, name)
    embedding.step = 0
    embedding.save(fn)
    return fn


def create_embedding_from_data(data, name, filename="unknown embedding file", filepath=None):  # :287-323
    import torch

    if "string_to_param" in data:
        param_dict = data["string_to_param"]
        assert len(param_dict) == 1, "embedding file has multiple terms in it"
        emb = next(iter(param_dict.items()))[1]
        vec = emb.detach().float()
        shape, vectors = vec.shape[-1], vec.shape[0]
    elif isinstance(data, dict) and "clip_g" in data and "clip_l" in data:  # :296-299 SDXL
        vec = {k: v.detach().float() for k, v in data.items()}
        shape = data["clip_g"].shape[-1] + data["clip_l"].shape[-1]
        vectors = data["clip_g"].shape[0]
    elif isinstance(data, dict) and isinstance(next(iter(data.values())), torch.Tensor):
        assert len(data.keys()) == 1, "embedding file has multiple terms in it"
        emb = next(iter(data.values()))
        if len(emb.shape) == 1:
            emb = emb.unsqueeze(0)
        vec = emb.detach().float()
        shape, vectors = vec.shape[-1], vec.shape[0]
    else:
        raise Exception(
            f"Couldn't identify {filename} as neither textual inversion embedding nor diffuser concept."
        )
    embedding = Embedding(vec, name)
    embedding.step = data.get("step", None)
    embedding.sd_checkpoint = data.get("sd_checkpoint", None)
    embedding.sd_checkpoint_name = data.get("sd_checkpoint_name", None)
    embedding.vectors = vectors
    embedding.shape = shape
    if filepath:
        embedding.filename = filepath
        # hashes.sha256(filepath, "textual_inversion/" + name): the file's sha256 (cached there)
        with open(filepath, "rb") as f:
            embedding.set_hash(hashlib.sha256(f.read()).hexdigest())
    return embedding


def write_loss(log_directory, filename, step, epoch_len, values):  # :326-348
    every = shared.opts.training_write_csv_every
    if every == 0 or step % every != 0:
        return
    path = os.path.join(log_directory, filename)
    new = not os.path.exists(path)
    with open(path, "a+", newline="") as f:
        if new:
            f.write("step,epoch,epoch_step,loss,learn_rate\n")
        epoch, epoch_step = (step - 1) // epoch_len, (step - 1) % epoch_len
        f.write(f"{step},{epoch},{epoch_step},{values['loss']},{values['learn_rate']}\n")


def validate_train_inputs(steps, batch_size, gradient_step, data_root, template_filename, every, log_dir):
    """:376-397: the asserts on the counts, the dataset folder and the template."""
    assert isinstance(batch_size, int), "Batch size must be integer"
    assert batch_size > 0, "Batch size must be positive"
    assert isinstance(gradient_step, int), "Gradient accumulation step must be integer"
    assert gradient_step > 0, "Gradient accumulation step must be positive"
    assert data_root, "Dataset directory is empty"
    assert os.path.isdir(data_root), "Dataset directory doesn't exist"
    assert os.listdir(data_root), "Dataset directory is empty"
    assert template_filename in textual_inversion_templates, (
        f"Prompt template file {template_filename} not found"
    )
    assert steps, "Max steps is empty or 0"
    assert isinstance(steps, int), "Max steps must be integer"
    assert steps > 0, "Max steps must be positive"
    for n in every:
        assert isinstance(n, int) and n >= 0, "Save/Create image every N steps must be an integer >= 0"
    if any(every):
        assert log_dir, "Log directory is empty"


# Double only: what happens halfway through the next train_embedding's loop: None, "loop-error" (a
# CUDA error inside the loop) or "interrupt" (the user presses the webui's Interrupt).
FAULT = {"mode": None}


def train_embedding(
    id_task,
    embedding_name,
    learn_rate,
    batch_size,
    gradient_step,
    data_root,
    log_directory,
    training_width,
    training_height,
    varsize,
    steps,
    clip_grad_mode,
    clip_grad_value,
    shuffle_tags,
    tag_drop_out,
    latent_sampling_method,
    use_weight,
    create_image_every,
    save_embedding_every,
    template_filename,
    save_image_with_stored_embedding,
    preview_from_txt2img,
    preview_prompt,
    preview_negative_prompt,
    preview_steps,
    preview_sampler_name,
    preview_cfg_scale,
    preview_seed,
    preview_width,
    preview_height,
):  # :400-688
    every = (save_embedding_every or 0, create_image_every or 0)
    validate_train_inputs(
        steps, batch_size, gradient_step, data_root, template_filename, every, log_directory
    )
    assert isinstance(learn_rate, str), "learn_rate is a schedule string"  # split by LearnRateScheduler
    state = shared.state
    state.job, state.textinfo, state.job_count = "train-embedding", "Initializing...", steps  # :409-411
    filename = os.path.join(shared.cmd_opts.embeddings_dir, f"{embedding_name}.pt")  # :413
    log_directory = os.path.join(log_directory, datetime.datetime.now().strftime("%Y-%m-%d"), embedding_name)
    emb_dir = os.path.join(log_directory, "embeddings")
    if save_embedding_every:  # :418-428: only the sub-folders it needs
        os.makedirs(emb_dir, exist_ok=True)
    if create_image_every:
        os.makedirs(os.path.join(log_directory, "images"), exist_ok=True)
    embedding = shared_db().word_embeddings[embedding_name]  # :438, KeyError for an unknown name
    initial_step = embedding.step or 0
    if initial_step >= steps:  # :441-444
        state.textinfo = "Model has already been trained beyond specified max steps"
        return embedding, filename
    if state.interrupted:  # dataset.py:60-61, while the dataset is prepared
        raise Exception("interrupted")
    if shared.opts.save_training_settings_to_txt:  # :467-468: into the run folder, never creating it
        _save_settings(log_directory, embedding_name, learn_rate, steps, batch_size)
    try:
        _train_loop(
            embedding, embedding_name, initial_step, steps, save_embedding_every, emb_dir, log_directory
        )
        save_embedding(embedding, embedding_name, filename)  # :677-678, also after an interrupt
    except Exception:  # :679-680: reported, then a normal return without the final save
        errors.report("Error training embedding", exc_info=True)
    return embedding, filename  # :688


def _train_loop(embedding, name, initial_step, steps, save_every, emb_dir, log_directory):  # :512-676
    state = shared.state
    for step in range(initial_step, steps):
        if state.interrupted:  # :518, :527
            break
        if FAULT["mode"] == "loop-error" and step == steps // 2:
            raise RuntimeError("CUDA out of memory (double)")
        if FAULT["mode"] == "interrupt" and step == steps // 2:
            state.interrupt()
            continue
        embedding.vec = embedding.vec + 0.001
        embedding.step += 1  # :566
        steps_done = embedding.step + 1  # :572: the off-by-one of the checkpoint names
        if save_every > 0 and steps_done % save_every == 0:  # :579-583
            save_embedding(
                embedding, f"{name}-{steps_done}", os.path.join(emb_dir, f"{name}-{steps_done}.pt")
            )
        values = {"loss": f"{0.5 / embedding.step:.7f}", "learn_rate": 0.005}
        write_loss(log_directory, "textual_inversion_loss.csv", embedding.step, 4, values)  # :586-589
        state.job_no = embedding.step  # :666
        state.textinfo = f"<p>Loss: {values['loss']}<br/>Step: {steps_done}<br/></p>"  # :668-676


def save_embedding(embedding, embedding_name, filename):  # :691-709 (no optimizer state here)
    embedding.name = embedding_name  # left renamed: after a checkpoint the live object is "<name>-<N>"
    embedding.save(filename)


def _save_settings(log_directory, name, learn_rate, steps, batch_size):  # saving_settings.py:52-64
    now = datetime.datetime.now()
    params = {"datetime": now.strftime("%Y-%m-%d %H:%M:%S"), "embedding_name": name,
              "learn_rate": learn_rate, "steps": steps, "batch_size": batch_size}  # fmt: skip
    with open(os.path.join(log_directory, f"settings-{now.strftime('%Y-%m-%d-%H-%M-%S')}.json"), "w") as f:
        json.dump(params, f, indent=4)


def shared_db():
    from modules import sd_hijack

    return sd_hijack.model_hijack.embedding_db
