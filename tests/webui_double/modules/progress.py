"""modules/progress.py:23-53 — task bookkeeping behind /internal/progress."""

import random
import string
from collections import OrderedDict

current_task = None
pending_tasks = OrderedDict()
finished_tasks = []


def start_task(id_task):  # :23-27
    global current_task
    current_task = id_task
    pending_tasks.pop(id_task, None)


def finish_task(id_task):  # :30-38
    global current_task
    if current_task == id_task:
        current_task = None
    finished_tasks.append(id_task)


def create_task_id(task_type):  # :40-44
    n = "".join(random.choices(string.ascii_uppercase + string.digits, k=7))
    return f"task({task_type}-{n})"


def add_task_to_queue(id_job):  # :52-53
    pending_tasks[id_job] = 0
