"""modules/shared_state.py:12-168 — the job state behind the progress bar and Interrupt."""

import time


class State:
    skipped = False
    interrupted = False
    stopping_generation = False
    job = ""
    job_no = 0
    job_count = 0
    processing_has_refined_job_count = False
    job_timestamp = "0"
    sampling_step = 0
    sampling_steps = 0
    current_latent = None
    current_image = None
    current_image_sampling_step = 0
    id_live_preview = 0
    textinfo = None
    time_start = None
    server_start = None

    def __init__(self):
        self.begun = 0  # double only: how many jobs began (tests check nesting)

    def skip(self):  # :75-77
        self.skipped = True

    def interrupt(self):  # :79-81
        self.interrupted = True

    def stop_generating(self):  # :83-85 (the top row's Interrupt with "Don't Interrupt in the middle")
        self.stopping_generation = True

    def nextjob(self):  # :87-93
        self.job_no += 1
        self.sampling_step = 0
        self.current_image_sampling_step = 0

    def begin(self, job: str = "(unknown)"):  # :110-127
        self.sampling_step = 0
        self.time_start = time.time()
        self.job_count = -1
        self.processing_has_refined_job_count = False
        self.job_no = 0
        self.job_timestamp = "0"
        self.current_latent = None
        self.current_image = None
        self.current_image_sampling_step = 0
        self.id_live_preview = 0
        self.skipped = False
        self.interrupted = False
        self.stopping_generation = False
        self.textinfo = None
        self.job = job
        self.begun += 1

    def end(self):  # :129-135
        self.job = ""
        self.job_count = 0

    def assign_current_image(self, image):  # :164-168
        self.current_image = image
        self.id_live_preview += 1
