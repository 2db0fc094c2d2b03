"""The webui bridge: the only package that imports the webui's ``modules.*``.

One module per part of the webui it adapts: ``facts`` (version, Forge, model, folders, options),
``work`` (queue lock and job state), ``embeddings``, ``registration`` (a sweep's tokens),
``training``, ``generation``, ``captioning``, ``upscaling``, ``loss``; ``host.WebuiHost`` puts
them behind the host contract and ``callbacks`` is what scripts/textinv.py registers. The webui
behaviour each relies on is described in docs/webui-contract.md.
"""
