"""One module per platform: its emulation's routes and the renderers of the synthetic world into
that API's JSON. A module is named after the platform (`social_assets.platforms.PLATFORMS`) and
exposes `EMULATION` (a subclass of `sandbox.engine.Emulation`) and `CREDENTIALS` (environment
variable name -> the value the sandbox issues and accepts by default). The router
(`sandbox/app.py`) finds it by the platform's name.
"""
