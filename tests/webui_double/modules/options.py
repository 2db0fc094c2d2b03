"""modules/options.py:13-76, 256-259 — OptionInfo and Options.add_option."""


class OptionInfo:
    def __init__(
        self,
        default=None,
        label="",
        component=None,
        component_args=None,
        onchange=None,
        section=None,
        refresh=None,
        comment_before="",
        comment_after="",
        infotext=None,
        restrict_api=False,
        category_id=None,
    ):
        self.default = default
        self.label = label
        self.component = component
        self.component_args = component_args
        self.onchange = onchange
        self.section = section
        self.category_id = category_id
        self.refresh = refresh
        self.do_not_save = False
        self.comment_before = comment_before
        self.comment_after = comment_after
        self.infotext = infotext
        self.restrict_api = restrict_api

    def info(self, info):  # :36-38
        self.comment_after += f"<span class='info'>({info})</span>"
        return self

    def needs_reload_ui(self):
        return self

    def needs_restart(self):
        return self


class Options:
    def __init__(self, values=None):
        self.__dict__["data_labels"] = {}
        self.__dict__["data"] = dict(values or {})

    def add_option(self, key, info):  # :256-259 keeps a loaded value, else stores the default
        self.data_labels[key] = info
        if key not in self.data:
            self.data[key] = info.default

    def __getattr__(self, item):
        if item in self.data:
            return self.data[item]
        if item in self.data_labels:
            return self.data_labels[item].default
        raise AttributeError(item)

    def __setattr__(self, key, value):
        self.data[key] = value
